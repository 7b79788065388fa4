/*
 * systemd's side of sd_notify(3) for the tests: binds an AF_UNIX datagram socket at argv[1] (a path, or
 * an abstract name with a leading '@'), prints "listening", then one line per datagram received:
 * milliseconds since it started listening, then the message.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: notify-receiver SOCKET\n");
    return 2;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t length = strlen(argv[1]);
  if (length == 0 || length >= sizeof addr.sun_path) {
    fprintf(stderr, "socket name too long\n");
    return 2;
  }
  memcpy(addr.sun_path, argv[1], length);
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length)) != 0) {
    perror("bind");
    return 1;
  }
  double start = now_ms();
  printf("listening\n");
  fflush(stdout);
  char buf[1024];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
      perror("recv");
      return 1;
    }
    buf[n] = '\0';
    printf("%.0f %s\n", now_ms() - start, buf);
    fflush(stdout);
  }
}
