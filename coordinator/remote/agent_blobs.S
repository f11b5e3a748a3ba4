/* remote/agent_blobs.S: the agent binaries, linked into the coordinator so that the
 * one `cutover` file carries everything it pushes to instances. The Makefile
 * passes the paths as AGENT_X86_64 and AGENT_AARCH64. See remote/agent_blobs.h. */
	.section .rodata
	.balign 16
	.global cutover_agent_x86_64_start
	.global cutover_agent_x86_64_end
cutover_agent_x86_64_start:
	.incbin AGENT_X86_64
cutover_agent_x86_64_end:
	.balign 16
	.global cutover_agent_aarch64_start
	.global cutover_agent_aarch64_end
cutover_agent_aarch64_start:
	.incbin AGENT_AARCH64
cutover_agent_aarch64_end:
	.section .note.GNU-stack,"",@progbits
