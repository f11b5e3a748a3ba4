/* simaws.c: see simaws.h. */
#include "simaws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/sbuf.h"

int
sim_available(void)
{
	const char *a = getenv("FAKEAWS_ADMIN");
	return a && *a;
}

static size_t
collect(char *p, size_t sz, size_t n, void *u)
{
	sbuf_addn(u, p, sz * n);
	return sz * n;
}

static struct json_object *
req(const char *method, const char *path, const char *json)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	struct sbuf b = SBUF_INIT;
	struct json_object *o = NULL;
	char url[1024];
	long st = 0;

	snprintf(url, sizeof(url), "%s/%s", getenv("FAKEAWS_ADMIN"), path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json ? json : "{}");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(h) == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
		if (st == 200)
			o = json_tokener_parse(sbuf_str(&b));
		else
			fprintf(stderr, "sim %s %s: HTTP %ld %s\n", method, path, st, sbuf_str(&b));
	}
	sbuf_free(&b);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return o;
}

struct json_object *sim_post(const char *path, const char *json) { return req("POST", path, json); }
struct json_object *sim_get(const char *path) { return req("GET", path, NULL); }
struct json_object *sim_delete(const char *path) { return req("DELETE", path, NULL); }

int
sim_reset(void)
{
	struct json_object *o = sim_post("reset", "{}");

	if (o == NULL)
		return -1;
	json_object_put(o);
	return 0;
}

int
sim_calls(const char *service, const char *operation)
{
	char path[256];
	struct json_object *o, *n;
	int r = -1;

	snprintf(path, sizeof(path), "calls?%s%s%s%s", service ? "service=" : "", service ? service : "",
	    operation ? "&operation=" : "", operation ? operation : "");
	if ((o = sim_get(path)) == NULL)
		return -1;
	if (json_object_object_get_ex(o, "count", &n))
		r = json_object_get_int(n);
	json_object_put(o);
	return r;
}
