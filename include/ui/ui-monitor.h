#ifndef UI_UI_MONITOR_H
#define UI_UI_MONITOR_H

/* Display commands of the monitor's table (handlers in ui/ui-monitor.c). */

#include "monitor/monitor-internal.h"

/* screendump: "filename:s,device:s?,head:i?,format:s?" (format ppm or png). */
MonitorHandler qmp_screendump;
/* set_password: "protocol:s,password:s,connected:s?" (protocol vnc). */
MonitorHandler qmp_set_password;
/* query-vnc / info vnc: "". */
MonitorHandler qmp_query_vnc;
HmpPrinter hmp_print_vnc;

#endif
