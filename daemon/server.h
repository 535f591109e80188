#ifndef SLOPN_SERVER_H
#define SLOPN_SERVER_H

#include "daemon/config.h"

/* Run the hub until SIGINT/SIGTERM. Returns the process exit code. */
int server_run(const struct config *cfg);

#endif
