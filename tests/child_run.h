/*
 * child_run.h -- child_run and thread_run are in helpers.h with the other
 * helpers; this name stays for files that still include it.
 */
#include "helpers.h"
