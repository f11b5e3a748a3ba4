/* Fuzz builds link the core without the real agent blobs. */
const unsigned char cutover_agent_x86_64_start[1], cutover_agent_x86_64_end[1];
const unsigned char cutover_agent_aarch64_start[1], cutover_agent_aarch64_end[1];
