// imagegen-child-guard PARENT_PID PROGRAM [ARGUMENT...]
//
// Runs PROGRAM so that it dies with the test process that started it, even when that process is
// killed with SIGKILL: asks the kernel for SIGKILL when the parent dies (PR_SET_PDEATHSIG, kept
// across execv), checks that the parent is still PARENT_PID (it may have died before the request),
// then becomes PROGRAM (same pid: signals sent to the child reach PROGRAM itself), with no signal
// blocked, as a shell starts a program: the test process's threads block most signals, and a
// spawned process inherits that mask (a shell script could not trap SIGTERM or SIGINT).
//
// PR_SET_PDEATHSIG fires when the parent *thread* that started this process exits, so the test
// support starts children from one thread that lives as long as the test process (ChildProcess).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: imagegen-child-guard PARENT_PID PROGRAM [ARGUMENT...]\n");
        return 2;
    }
    char *end = NULL;
    long expected = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || expected <= 1) {
        fprintf(stderr, "imagegen-child-guard: \"%s\" is not a parent pid\n", argv[1]);
        return 2;
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        fprintf(stderr, "imagegen-child-guard: prctl(PR_SET_PDEATHSIG): %s\n", strerror(errno));
        return 127;
    }
    if ((long)getppid() != expected) {
        // The parent died before the request took effect: no signal will come, so do not start.
        return 127;
    }
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) {
        fprintf(stderr, "imagegen-child-guard: sigprocmask: %s\n", strerror(errno));
        return 127;
    }
    execv(argv[2], &argv[2]);
    fprintf(stderr, "imagegen-child-guard: cannot run %s: %s\n", argv[2], strerror(errno));
    return 127;
}
