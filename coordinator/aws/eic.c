/* aws/eic.c: see aws/eic.h. */
#include "aws/eic.h"

#include <string.h>

int
eic_send_ssh_public_key(struct aws_client *c, const char *instance_id,
    const char *os_user, const char *public_key, const char *az, struct cut_err *err)
{
	struct json_object *in = json_object_new_object(), *out = NULL, *ok;
	int r;

	if (in == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory building SendSSHPublicKey.");
	json_object_object_add(in, "InstanceId", json_object_new_string(instance_id));
	json_object_object_add(in, "InstanceOSUser", json_object_new_string(os_user));
	json_object_object_add(in, "SSHPublicKey", json_object_new_string(public_key));
	if (az)
		json_object_object_add(in, "AvailabilityZone", json_object_new_string(az));
	r = aws_json(c, &aws_svc_eic, "SendSSHPublicKey", in, &out, err);
	json_object_put(in);
	if (r != 0)
		return r;
	if (!json_object_object_get_ex(out, "Success", &ok) || !json_object_get_boolean(ok))
		r = cut_err_set(err, CUT_EAUTH,
		    "EC2 Instance Connect did not accept the key for %s (Success is not true); check that the instance runs ec2-instance-connect.",
		    instance_id);
	json_object_put(out);
	return r;
}
