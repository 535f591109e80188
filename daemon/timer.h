/* One-shot sd-event timers, made off, and armed once for a burst: a
 * change that often comes as several events (rtnetlink, a state to save)
 * is acted on a little later, once. */
#ifndef SLOPN_DAEMON_TIMER_H
#define SLOPN_DAEMON_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <systemd/sd-event.h>

/* CLOCK_MONOTONIC in microseconds, read now. sd_event_now() is the time
 * the loop woke: after slow work (a large answer built) it is stale. */
static inline uint64_t timer_now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A one-shot timer on CLOCK_MONOTONIC, off until armed (timer_once, or
 * by hand). 0, or -1 when sd-event refused it. */
static inline int timer_new(sd_event *ev, sd_event_source **t, uint64_t accuracy,
                            sd_event_time_handler_t cb, void *userdata)
{
	if (sd_event_add_time(ev, t, CLOCK_MONOTONIC, UINT64_MAX, accuracy, cb, userdata) < 0)
		return -1;
	return sd_event_source_set_enabled(*t, SD_EVENT_OFF) < 0 ? -1 : 0;
}

/* Armed, and not yet fired. */
static inline bool timer_armed(sd_event_source *t)
{
	int on = SD_EVENT_OFF;
	return t && sd_event_source_get_enabled(t, &on) >= 0 && on != SD_EVENT_OFF;
}

/* Fires usec from now, unless already armed (then as it was). */
static inline void timer_once(sd_event_source *t, uint64_t usec)
{
	int on = SD_EVENT_OFF;
	if (!t || sd_event_source_get_enabled(t, &on) < 0 || on != SD_EVENT_OFF)
		return;
	sd_event_source_set_time_relative(t, usec);
	sd_event_source_set_enabled(t, SD_EVENT_ONESHOT);
}

#endif
