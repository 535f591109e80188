#ifndef SLOPN_CLIENT_H
#define SLOPN_CLIENT_H

#include "daemon/config.h"

/* Run the client until SIGINT/SIGTERM or a refused login. Exit code. */
int client_run(const struct config *cfg);

#endif
