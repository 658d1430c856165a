/* systemd integration: readiness, status and stopping notifications. */
#ifndef DUTYD_SDNOTIFY_H
#define DUTYD_SDNOTIFY_H

void	sdnotify_ready(void);
void	sdnotify_stopping(void);
void	sdnotify_reloading(void);
void	sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
