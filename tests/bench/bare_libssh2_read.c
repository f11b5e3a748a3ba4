/* bare_libssh2_read: the baseline for cutover's output streaming. The
 * least a libssh2 program can do: connect, authenticate with a key file,
 * exec COMMAND, read the channel to the end and throw the bytes away.
 * Blocking I/O, libssh2's default algorithms, no host key check (loopback
 * benchmark only). Prints "BYTES SECONDS" for the read phase.
 *
 *   bare_libssh2_read HOST PORT USER KEYFILE COMMAND
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	static char buf[256 * 1024];
	long long total = 0;
	ssize_t n;
	int fd;
	double t0;

	if (argc != 6) {
		fprintf(stderr, "usage: bare_libssh2_read HOST PORT USER KEYFILE COMMAND\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || libssh2_init(0) != 0)
		return perror("connect"), 1;
	s = libssh2_session_init();
	if (libssh2_session_handshake(s, fd) != 0 ||
	    libssh2_userauth_publickey_fromfile(s, argv[3], NULL, argv[4], NULL) != 0)
		return fprintf(stderr, "handshake or auth failed\n"), 1;
	ch = libssh2_channel_open_session(s);
	if (ch == NULL || libssh2_channel_exec(ch, argv[5]) != 0)
		return fprintf(stderr, "exec failed\n"), 1;
	t0 = now();
	while ((n = libssh2_channel_read(ch, buf, sizeof(buf))) > 0)
		total += n;
	printf("%lld %.3f\n", total, now() - t0);
	libssh2_channel_close(ch);
	libssh2_channel_free(ch);
	libssh2_session_disconnect(s, "bye");
	libssh2_session_free(s);
	close(fd);
	return 0;
}
