#include "imagegen_system.h"

#include <errno.h>

#ifdef __linux__
#include <sys/prctl.h>

int imagegen_set_not_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : errno;
}

int imagegen_is_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}
#else
int imagegen_set_not_dumpable(void) { return 0; }
int imagegen_is_dumpable(void) { return -1; }
#endif
