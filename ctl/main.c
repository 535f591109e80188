/* slopnctl's entry: the completion scripts' helper, or dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/slopnctl.h"

static void print_line(const char *cand, void *ctx)
{
	(void)ctx;
	puts(cand);
}

int main(int argc, char **argv)
{
	sock_path = getenv("SLOPNCTL_SOCKET");
	if (!sock_path || !*sock_path)
		sock_path = "/run/slopn/slopnd.sock";
	/* `slopnctl __complete WORD... CURRENT`: candidates, one per line, for
	 * the completion scripts of bash, zsh and fish. */
	if (argc >= 2 && !strcmp(argv[1], "__complete")) {
		complete_words(argc - 2, argv + 2, print_line, NULL);
		return 0;
	}
	argv[0] = "slopnctl";
	return dispatch(argc, argv);
}
