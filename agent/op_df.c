/* op_df.c: "df", free space for a path (statvfs), checked before a restore
 * or conversion that writes dumps or logs on the instance. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "opsutil.h"


int
opw_df(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	char path[1024];
	struct statvfs vfs;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (opu_req_str(req, "path", "/", path, sizeof(path)) < 0) {
		snprintf(why, whylen, "the df request's path is not a string");
		return -1;
	}
	if (statvfs(path, &vfs) != 0) {
		snprintf(why, whylen, "cannot read free space of %s: %s", path, strerror(errno));
		return -1;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	opu_pack_head(&pk, "df", io, 5);
	opu_pack_key(&pk, "path"); opu_pack_cstr(&pk, path);
	/* f_bavail: what an unprivileged writer can use. */
	opu_pack_key(&pk, "avail_bytes"); msgpack_pack_uint64(&pk, (uint64_t)vfs.f_bavail * vfs.f_frsize);
	opu_pack_key(&pk, "total_bytes"); msgpack_pack_uint64(&pk, (uint64_t)vfs.f_blocks * vfs.f_frsize);
	opu_send(io, &sb);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}
