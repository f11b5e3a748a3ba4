/* Placeholder until the agent lands (issue 2). */
#include <stdio.h>
int main(void) { fputs("cutover-agent: not built yet\n", stderr); return 1; }
