/* cli/cmd_iam_policy.c: `cutover iam-policy -c FILE [--for CMD,...]`: the IAM
 * policy the configured cutover needs (world/iam.h), as JSON on stdout;
 * what had to stay a wildcard, and why, as notes on stderr. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cmd.h"
#include "aws/client.h"
#include "aws/r53.h"
#include "aws/rds.h"
#include "aws/sts.h"
#include "world/config.h"
#include "world/iam.h"
#include "world/live.h"

extern const struct cmd_entry cmd_iam_policy_entry;

static void
print_note(void *user, const char *note)
{
	(void)user;
	fprintf(stderr, "cutover iam-policy: note: %s\n", note);
}

/* Letters, digits and the characters in `extra` only, 1..max long. */
static int
plain(const char *s, const char *extra, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

/* What the file does not say, from AWS (read-only calls the policy allows
 * for every command anyway). Each failure leaves its fact empty: a
 * wildcard and a note. */
static void
look_up(const struct cfg *cfg, const char *profile, const char *region, struct iam_facts *f)
{
	struct aws_client *c;
	struct cut_err err;

	if (live_client(cfg, profile, region, &c, &err) != 0) {
		fprintf(stderr, "cutover iam-policy: note: nothing looked up in AWS: %s\n", err.msg);
		return;
	}
	if (!f->account[0]) {
		struct sts_identity id;

		if (sts_get_caller_identity(c, &id, &err) == 0)
			snprintf(f->account, sizeof(f->account), "%s", id.account);
		else
			fprintf(stderr, "cutover iam-policy: note: account not looked up: %s\n", err.msg);
	}
	if (!f->zone_id[0]) {
		struct r53_zone z;

		if (r53_find_hosted_zone(c, cfg->dns.zone, &z, &err) == 0)
			snprintf(f->zone_id, sizeof(f->zone_id), "%s", z.id);
		else
			fprintf(stderr, "cutover iam-policy: note: hosted zone id not looked up: %s\n", err.msg);
	}
	if (!f->live_db[0]) {
		struct rds_instance db;

		if (live_live_db(c, cfg, &db, &err) != 0)
			fprintf(stderr, "cutover iam-policy: note: live database not looked up: %s\n", err.msg);
		else if (strcmp(db.id, cfg->db.new_id) == 0)
			/* After the cutover the live database is the new one; the old one
			 * (which tidy snapshots and deletes) is no longer findable here. */
			fprintf(stderr, "cutover iam-policy: note: the live database is already %s ([database] "
			    "new), so the old one is not known; give --live-db OLD to name it for tidy.\n", db.id);
		else
			snprintf(f->live_db, sizeof(f->live_db), "%s", db.id);
	}
	aws_client_free(c);
}

/* Its options: the parser below and `cutover completion` read this table. */
static const struct option iam_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "for", required_argument, NULL, 'f' },
	{ "account", required_argument, NULL, 'a' },
	{ "zone-id", required_argument, NULL, 'z' },
	{ "live-db", required_argument, NULL, 'l' },
	{ "offline", no_argument, NULL, 'o' },
	{ "profile", required_argument, NULL, 'p' },
	{ "region", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
cmd_iam_policy_exec(int argc, char **argv)
{
	const char *config = NULL, *profile = NULL, *region = NULL;
	struct iam_facts f;
	struct cfg cfg;
	struct cut_err err;
	struct json_object *doc;
	unsigned cmds = 0;
	int ch, offline = 0;

	memset(&f, 0, sizeof(f));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", iam_longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'f': {
			char list[256], *save = NULL, *w;

			if (strlen(optarg) >= sizeof(list))
				return cmd_usage_error(&cmd_iam_policy_entry, "--for is too long");
			snprintf(list, sizeof(list), "%s", optarg);
			for (w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
				unsigned b = iam_cmd_bits(w);

				if (b == 0)
					return cmd_usage_error(&cmd_iam_policy_entry, "--for: '%s' is not plan, prep, run, "
					    "failback, tidy, rehearse or all", w);
				cmds |= b;
			}
			break;
		}
		case 'a':
			if (strlen(optarg) != 12 || !plain(optarg, "", 12) || strspn(optarg, "0123456789") != 12)
				return cmd_usage_error(&cmd_iam_policy_entry, "--account takes the 12-digit account id");
			snprintf(f.account, sizeof(f.account), "%s", optarg);
			break;
		case 'z':
			if (strncmp(optarg, "/hostedzone/", 12) == 0)
				optarg += 12;
			if (!plain(optarg, "", 32))
				return cmd_usage_error(&cmd_iam_policy_entry, "--zone-id takes a Route 53 hosted zone id "
				    "(letters and digits, e.g. Z0123456789ABC)");
			snprintf(f.zone_id, sizeof(f.zone_id), "%s", optarg);
			break;
		case 'l':
			if (!plain(optarg, "-", 63))
				return cmd_usage_error(&cmd_iam_policy_entry, "--live-db takes an RDS instance identifier "
				    "(letters, digits and hyphens)");
			snprintf(f.live_db, sizeof(f.live_db), "%s", optarg);
			break;
		case 'o': offline = 1; break;
		case 'p': profile = optarg; break;
		case 'r': region = optarg; break;
		case 'h': return cmd_print_usage(&cmd_iam_policy_entry);
		default: return cmd_usage_error(&cmd_iam_policy_entry, "unknown option");
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_iam_policy_entry, "unexpected argument '%s'", argv[optind]);
	if (config == NULL)
		return cmd_usage_error(&cmd_iam_policy_entry, "-c FILE is required");
	if (cfg_load(config, &cfg, &err) != 0) {
		fprintf(stderr, "cutover iam-policy: %s\n", err.msg);
		return 1;
	}
	if (region)
		snprintf(cfg.aws.region, sizeof(cfg.aws.region), "%s", region);
	if (!offline)
		look_up(&cfg, profile, region, &f);
	if (iam_policy(&cfg, &f, cmds ? cmds : IAM_ALL, print_note, NULL, &doc, &err) != 0) {
		fprintf(stderr, "cutover iam-policy: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	return fflush(stdout) == 0 ? 0 : 1;
}

const struct cmd_entry cmd_iam_policy_entry = {
	.name = "iam-policy",
	.summary = "print the IAM policy the configured cutover needs (least privilege)",
	.usage =
	    "usage: cutover iam-policy -c FILE [--for plan|prep|run|failback|tidy|rehearse|all[,...]]\n"
	    "                          [--account ID] [--zone-id ID] [--live-db ID] [--offline]\n"
	    "                          [--profile NAME] [--region REGION]\n"
	    "\n"
	    "Prints, as IAM policy JSON, every AWS action the commands named by --for call\n"
	    "(default all), each on the resource ARNs built from FILE: the pairs' Elastic\n"
	    "Beanstalk environments and templates, the databases and snapshots, the hosted\n"
	    "zone; \"*\" only where AWS has no resource-level permission for the action.\n"
	    "It includes what Elastic Beanstalk does with your rights while it creates,\n"
	    "updates and terminates environments (statements EbOnBehalf*). Each wildcard\n"
	    "and why is a note on stderr, so `> policy.json` keeps the policy alone.\n"
	    "\n"
	    "What FILE does not say is looked up read-only with the credentials in use:\n"
	    "the account (STS GetCallerIdentity, which needs no permission), the hosted\n"
	    "zone id and the live database (the one tidy deletes; look it up before the\n"
	    "cutover, or give --live-db). --account, --zone-id and --live-db name them;\n"
	    "--offline looks nothing up, leaving \"*\" in their place.\n",
	.exec = cmd_iam_policy_exec,
	.longopts = iam_longopts,
	.shortopts = "c:h",
};
