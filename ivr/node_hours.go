package ivr

import (
	"context"
	"errors"
)

// hoursKind: go on by whether the service is open now, by a calendar of
// the calendars file.
//
//	office_hours:
//	  type: hours
//	  calendar: hotline
//	  exits:
//	    open: main_menu
//	    closed: after_hours
//	    holiday: holiday_notice      # optional: as closed when not wired
//	    emergency: emergency_notice  # optional: as closed when not wired
//
// Precedence: the emergency switch, then special dates (China's 调休
// make-up days), then holidays, then the weekly hours; the calendar's time
// zone applies (see calendar.go).
func hoursKind() *kind {
	return &kind{
		name:     "hours",
		fields:   []string{"calendar"},
		exits:    []string{string(CalendarOpen), string(CalendarClosed)},
		optional: map[string]string{string(CalendarHoliday): string(CalendarClosed), string(CalendarEmergency): string(CalendarClosed)},
		compile: func(c *nodeCompiler) behaviour {
			return &hours{calendar: c.calendar("calendar")}
		},
	}
}

type hours struct {
	calendar string
}

func (h *hours) run(_ context.Context, v *visit) (string, error) {
	cal := v.fr.flow.set.calendars[h.calendar]
	if cal == nil {
		return "", errors.New("calendar " + h.calendar + " is not loaded")
	}
	state, name := cal.State(v.r.now(), cal.Emergency(v.r.opts.Services.Switches))
	text := string(state)
	if name != "" {
		text += " (" + name + ")"
	}
	v.r.trace("hours", v.node.Name, h.calendar+": "+text)
	return string(state), nil
}
