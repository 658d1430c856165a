/*
 * A fake clock for unit tests: time stands still until the test moves it,
 * and clocks (timers) fire in deadline order as it does.
 */
#ifndef TEST_FAKECLOCK_H
#define TEST_FAKECLOCK_H

#include <stdint.h>

/* From now on time_now_ms() is NOW and clocks wait for fakeclock_advance(). */
void	fakeclock_start(int64_t now);
void	fakeclock_stop(void);
int64_t	fakeclock_now(void);
/*
 * Moves time forward by MS, firing every clock that comes due on the way,
 * each at its own deadline, then ends the loop turn as dutyd's loop does
 * (core_turn(): the group commit, its waiters, a checkpoint if due).
 */
void	fakeclock_advance(int64_t ms);
/* Fires what is due now (deadlines in the past included), as one turn does. */
void	fakeclock_turn(void);
/* Clocks armed, and the earliest deadline (0 when none). */
int	fakeclock_armed(void);
int64_t	fakeclock_next(void);

#endif
