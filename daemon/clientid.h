/* The client's id: 32 random hex digits kept in its state directory
 * (client-TUN.id), sent at login so that the hub gives the client its
 * addresses back and replaces its stale session at once. Not a secret:
 * the token is what authenticates. */
#ifndef SLOPN_CLIENTID_H
#define SLOPN_CLIENTID_H

#include "proto/clientid.h"

/* Read the id of the client with TUN device tun, or make and save one
 * (none there, or not an id). Always fills id; when it cannot be kept, or
 * the file cannot be read (then it is not written over), says so (the id
 * then lasts as long as this process). */
void client_id_load(const char *state_dir, const char *tun, char id[CLIENT_ID_LEN + 1]);

/* This run's instance: 16 random hex digits, sent at login next to the
 * id, so that the hub tells a restart (a new instance) from a second
 * machine with the same id (the instance whose session it replaced). */
#define CLIENT_INSTANCE_LEN 16
void client_instance_make(char inst[CLIENT_INSTANCE_LEN + 1]);

#endif
