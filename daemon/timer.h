/* One-shot sd-event timers armed once for a burst: a change that often
 * comes as several events (rtnetlink, a state to save) is acted on a
 * little later, once. */
#ifndef SLOPN_DAEMON_TIMER_H
#define SLOPN_DAEMON_TIMER_H

#include <stdint.h>
#include <systemd/sd-event.h>

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
