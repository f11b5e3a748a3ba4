/* cli/cmd_aws.c: `cutover aws whoami` (whose AWS credentials are in use) and
 * `cutover aws status -c FILE` (the live world the config names, read from AWS). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cmd.h"
#include "aws/sts.h"
#include "world/live.h"

extern const struct cmd_entry cmd_aws_entry;

/* Options both subcommands take; -c only where want_config. */
struct aws_cli_opts {
	const char *config, *profile, *region;
	int json;
};

static const struct option aws_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "profile", required_argument, NULL, 'p' },
	{ "region", required_argument, NULL, 'r' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, or the exit status to return now (help, usage error). */
static int
aws_cli_parse(int argc, char **argv, int want_config, struct aws_cli_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, want_config ? "c:h" : "h", aws_longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (!want_config)
				return cmd_usage_error(&cmd_aws_entry, "%s takes no -c", argv[0]);
			o->config = optarg;
			break;
		case 'p': o->profile = optarg; break;
		case 'r': o->region = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': return cmd_print_usage(&cmd_aws_entry);
		default: return cmd_usage_error(&cmd_aws_entry, "unknown option");
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_aws_entry, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static int
whoami(int argc, char **argv)
{
	struct aws_cli_opts o;
	struct aws_client *c;
	struct sts_identity id;
	struct cut_err err;
	int r;

	if ((r = aws_cli_parse(argc, argv, 0, &o)) >= 0)
		return r;
	if (live_client(NULL, o.profile, o.region, &c, &err) != 0) {
		fprintf(stderr, "cutover aws whoami: %s\n", err.msg);
		return 1;
	}
	if (sts_get_caller_identity(c, &id, &err) != 0) {
		fprintf(stderr, "cutover aws whoami: %s\n", err.msg);
		aws_client_free(c);
		return 1;
	}
	if (o.json) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "account", json_object_new_string(id.account));
		json_object_object_add(j, "arn", json_object_new_string(id.arn));
		json_object_object_add(j, "user_id", json_object_new_string(id.user_id));
		json_object_object_add(j, "credentials", json_object_new_string(aws_client_creds_source(c)));
		json_object_object_add(j, "profile", json_object_new_string(aws_client_config(c)->profile));
		json_object_object_add(j, "region", json_object_new_string(aws_client_region(c)));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
	} else {
		printf("account      %s\narn          %s\nuser id      %s\ncredentials  %s (profile %s)\nregion       %s\n",
		    id.account, id.arn, id.user_id, aws_client_creds_source(c),
		    aws_client_config(c)->profile, aws_client_region(c));
	}
	aws_client_free(c);
	return 0;
}

static int
status(int argc, char **argv)
{
	struct aws_cli_opts o;
	struct cut_err err;
	int r;

	if ((r = aws_cli_parse(argc, argv, 1, &o)) >= 0)
		return r;
	if (o.config == NULL)
		return cmd_usage_error(&cmd_aws_entry, "status needs -c FILE");
	if (live_show(stdout, o.config, o.profile, o.region, o.json, &err) != 0) {
		fprintf(stderr, "cutover aws status: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static int
cmd_aws_exec(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return argc < 2 ? cmd_usage_error(&cmd_aws_entry, "missing subcommand") :
		    cmd_print_usage(&cmd_aws_entry);
	if (strcmp(argv[1], "whoami") == 0)
		return whoami(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return status(argc - 1, argv + 1);
	return cmd_usage_error(&cmd_aws_entry, "unknown subcommand '%s'", argv[1]);
}

const struct cmd_entry cmd_aws_entry = {
	.name = "aws",
	.summary = "AWS: `aws whoami` (whose credentials), `aws status -c FILE` (the live world)",
	.usage =
	    "usage: cutover aws whoami [--profile NAME] [--region REGION] [--json]\n"
	    "       cutover aws status -c FILE [--json] [--profile NAME] [--region REGION]\n"
	    "\n"
	    "whoami prints the account, ARN and user id of the AWS credentials cutover finds\n"
	    "(the AWS CLI's order: environment, --profile/AWS_PROFILE, shared files,\n"
	    "credential_process, container, instance metadata) and where they came from.\n"
	    "Endpoints follow AWS_ENDPOINT_URL[_<SERVICE>] and the profile's endpoint_url.\n"
	    "\n"
	    "status reads the world FILE names from AWS and prints, per pair, each\n"
	    "environment's status, health, version and instances, the settings that matter\n"
	    "(MAINTENANCE_MODE, MP_USE_DJANGO, RDS_HOSTNAME, RDS_DB_NAME; secrets masked),\n"
	    "which one is live (read from where the pair's DNS records point), each record\n"
	    "and its target, and the live and new databases with their latest snapshots.\n"
	    "--json prints the same as one JSON object (all environment settings, masked).\n",
	.exec = cmd_aws_exec,
	.longopts = aws_longopts,
	.shortopts = "c:h",
	.words = "whoami status",
};
