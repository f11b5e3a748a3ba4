/* Unit tests for world/live.c's masking: `aws status` must not print a value
 * that carries a credential, whatever the variable is called. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "world/live.h"

static void
test_mask_by_name(void **state)
{
	(void)state;
	assert_string_equal(live_mask("RDS_PASSWORD", "pw"), "********");
	assert_string_equal(live_mask("SECRET_KEY", "x"), "********");
	assert_string_equal(live_mask("RDS_DB_NAME", "ebdb"), "ebdb");
	assert_string_equal(live_mask("X", NULL), "");
}

static void
test_mask_urls_with_userinfo(void **state)
{
	(void)state;
	assert_string_equal(live_mask("DATABASE_URL", "postgres://u:pw@db.example:5432/ebdb"), "********");
	assert_string_equal(live_mask("REDIS_URL", "redis://:pw@cache:6379/0"), "********");
	assert_string_equal(live_mask("CELERY_BROKER", "amqp://guest:guest@mq//"), "********");
	assert_string_equal(live_mask("SENTRY_DSN", "https://abc123@o1.ingest.sentry.io/42"), "********");
	/* A DSN without userinfo is still a DSN. */
	assert_string_equal(live_mask("SENTRY_DSN", "https://o1.ingest.sentry.io/42"), "********");
	assert_string_equal(live_mask("PG", "host=db user=u password=pw"), "********");
}

static void
test_plain_urls_shown(void **state)
{
	(void)state;
	/* No userinfo: an '@' in the path or query is not a credential. */
	assert_string_equal(live_mask("SITE_URL", "https://www.myabf.com.au/"), "https://www.myabf.com.au/");
	assert_string_equal(live_mask("MAILTO", "https://x.example/u/a@b.c"), "https://x.example/u/a@b.c");
	assert_string_equal(live_mask("FROM", "noreply@myabf.com.au"), "noreply@myabf.com.au");
	assert_int_equal(live_is_secret_value("https://x.example/?to=a@b"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_by_name),
		cmocka_unit_test(test_mask_urls_with_userinfo),
		cmocka_unit_test(test_plain_urls_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
