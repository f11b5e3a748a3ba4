/* cli/cmd_exec.c: `cutover exec`, run a program on instances (see cli/rcli.h). */
#include "cli/cmd.h"
#include "cli/rcli.h"

extern const struct cmd_entry cmd_exec_entry;

static int
cmd_exec_exec(int argc, char **argv)
{
	struct rcli_opts o;
	int r;

	if ((r = rcli_parse(&cmd_exec_entry, 0, argc, argv, &o)) != 0) {
		rcli_opts_free(&o);
		return r == 1 ? 0 : r;
	}
	struct rexec_request req = {
		.kind = REXEC_RUN,
		.argv = (const char *const *)o.rest,
		.timeout_ms = o.timeout_ms,
	};
	r = rcli_run(&cmd_exec_entry, &o, &req);
	rcli_opts_free(&o);
	return r;
}

const struct cmd_entry cmd_exec_entry = {
	.name = "exec",
	.summary = "run a program on instances over SSH, with exact output and exit status",
	.usage =
	"usage: cutover exec TARGETS [--timeout SECS] [--json] [--parallel N] -- PROGRAM [ARGS...]\n"
	"\n"
	"Runs PROGRAM with ARGS on each host through the cutover agent (no shell: write\n"
	"sh -c '...' yourself when you need one).\n"
	"\n"
	"TARGETS:\n"
	"  --host [USER@]HOST[:PORT]  a host (repeat for several; IPv6 as [ADDR]:PORT)\n"
	"  --user USER                login user for hosts without USER@ (default $USER)\n"
	"  --identity FILE            ed25519 or ECDSA private key (default: ssh-agent,\n"
	"                             else ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa); RSA keys\n"
	"                             do not work against OpenSSH 9 (the SSH library is too old)\n"
	"  --known-hosts FILE         OpenSSH known_hosts (default ~/.ssh/known_hosts)\n"
	"  --accept-new-host-key      record the key of a host not yet known (a changed\n"
	"                             key is always refused)\n"
	"  --sudo                     run as root with sudo -n (EB instances need it)\n"
	"\n"
	"  or every instance of an Elastic Beanstalk environment:\n"
	"  --env NAME -c FILE         found through EB and EC2, reached at the [ssh]\n"
	"                             address with its user, key or EC2 Instance Connect\n"
	"                             (an ephemeral key pushed just before connecting),\n"
	"                             known_hosts, and [app] sudo\n"
	"  --open-port, --no-open-port  open port 22 to this machine's /32 on the\n"
	"                             instances' security groups for the session and\n"
	"                             revoke it afterwards, even after a failure or\n"
	"                             Ctrl-C (default: [ssh] open_port; the address is\n"
	"                             CUTOVER_OPERATOR_IP, else checkip.amazonaws.com)\n"
	"\n"
	"  --timeout SECS             kill the remote process group after SECS\n"
	"  --json                     one JSON object per line per event (see below)\n"
	"  --parallel N               hosts at once (default 32)\n"
	"  --connect-timeout SECS     TCP + SSH handshake + login (default 10)\n"
	"\n"
	"One host: stdout and stderr pass through byte for byte, stdin is forwarded,\n"
	"the exit status is the remote one (128+N when killed by signal N); 124 when\n"
	"--timeout passed, 127 when the program could not be started, 255 when cutover\n"
	"itself failed (connection, authentication, host key, protocol).\n"
	"Several hosts: every line is prefixed with its host, a table (host, status,\n"
	"duration) ends the output; exit 0 when all succeeded, 1 when any failed, 255\n"
	"when no host could be reached.\n"
	"--json events: {\"host\",\"event\":\"output\",\"stream\",\"data\"} (\"data_base64\"\n"
	"instead of \"data\" when the chunk is not valid UTF-8), {\"host\",\"event\":\"exit\",\n"
	"\"status\",\"signal\",\"duration_ms\",\"timed_out\",\"error\"}, {\"host\",\n"
	"\"event\":\"failed\",\"code\",\"message\"}.\n"
	"\n"
	"Example: cutover exec --host ec2-user@10.0.1.5 --sudo -- df -h /\n"
	"         cutover exec --env cobalt-production-green -c cutover.ini -- uptime\n",
	.exec = cmd_exec_exec,
	.longopts = rcli_exec_longopts,
	.shortopts = RCLI_SHORTOPTS,
};
