/*
 * win32_test.h -- the Win32 helpers are in helpers.h with the others; this
 * name stays for files that still include it.
 */
#include "helpers.h"
