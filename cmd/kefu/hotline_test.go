package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kefu/sip/media"
	"kefu/sip/testphone"
)

// silence and tone are 20 ms of μ-law audio: quiet, and a full-scale 500 Hz
// square wave that the voicemail recorder hears as speech.
var (
	silence = []byte(strings.Repeat("\xff", 160))
	tone    = []byte(strings.Repeat(strings.Repeat("\x80", 8)+strings.Repeat("\x00", 8), 10))
)

// TestHotlineEmergencyAndVoicemail calls the real hotline flow twice: with
// the calendar's emergency switch turned on over the HTTP API the caller
// hears the emergency notice and is hung up; with the switch cleared and
// the calendar closed, the caller leaves a message that ends with
// silence, and Kefu keeps it as a WAV file and thanks the caller.
func TestHotlineEmergencyAndVoicemail(t *testing.T) {
	dir := hotlineFlows(t)
	k := startKefuFlows(t, "", dir)
	post := func(path, body string) {
		t.Helper()
		res, err := apiPost(k.http+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d", path, res.StatusCode)
		}
	}
	caller := k.phone("13900000000", "", testphone.Options{Fill: 0xff})
	call := func(keys string) *testphone.Call {
		t.Helper()
		c := dial(t, caller, k, "10086")
		for _, key := range keys {
			time.Sleep(time.Second)
			if err := c.SendDigit(key); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	ended := func(c *testphone.Call, bound time.Duration) string {
		t.Helper()
		select {
		case <-c.Done():
		case <-time.After(bound):
			t.Fatal("Kefu did not hang up")
		}
		if !c.HungUpByPeer() {
			t.Error("the call ended without Kefu's BYE")
		}
		var line string
		waitFor(t, 5*time.Second, "the run's end in the log", func() bool {
			all := regexp.MustCompile(`msg="ivr run ended".*`).FindAllString(k.log.String(), -1)
			if len(all) == 0 {
				return false
			}
			line = all[len(all)-1]
			return strings.Contains(line, c.CallID())
		})
		return line
	}

	// 1. Emergency: English, menu 9 (complaints), the agents' hours are shut.
	post("/api/switches/emergency.hotline", `{"on": true, "by": "duty manager"}`)
	end := ended(call("29"), 40*time.Second)
	for _, want := range []string{"end=hangup", "node=emergency_msg", "reason=emergency", "lang=en"} {
		if !strings.Contains(end, want) {
			t.Errorf("emergency call: %s missing in\n%s", want, end)
		}
	}

	// 2. Closed: the switch back to the file's default, the calendar closed
	// every day; the caller leaves a message.
	post("/api/switches/emergency.hotline", `{"clear": true}`)
	closed := "kind: calendars\ncalendars:\n  hotline:\n    timezone: Asia/Shanghai\n    weekly: {daily: []}\n"
	if err := os.WriteFile(filepath.Join(dir, "calendars.yaml"), []byte(closed), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := k.app.flows.Reload("test: closed"); st.LastError != nil {
		t.Fatalf("reload: %+v", st.LastError)
	}
	c := call("29")
	waitFor(t, 40*time.Second, "the voicemail node", func() bool {
		return regexp.MustCompile(`msg="ivr node".*` + regexp.QuoteMeta(c.CallID()) + `.*node=voicemail`).MatchString(k.log.String())
	})
	time.Sleep(8 * time.Second) // the leave-a-message prompt and the beep
	c.SetPayload(tone)
	time.Sleep(2 * time.Second)
	c.SetPayload(silence)
	end = ended(c, 30*time.Second)
	for _, want := range []string{"end=hangup", "node=thanks", "path=choose_language,who_is_calling,notices,main_menu,complaints,agents_hours,closed_msg,voicemail,thanks"} {
		if !strings.Contains(end, want) {
			t.Errorf("voicemail call: %s missing in\n%s", want, end)
		}
	}
	m := regexp.MustCompile(`msg="message recorded".* file=(\S+) length=(\S+)`).FindStringSubmatch(k.log.String())
	if m == nil {
		t.Fatal("no message recorded")
	}
	wav, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := media.DecodeWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	// The 2 s of tone are in it (the recording may start with the silence
	// before the caller spoke).
	loud := 0
	for _, x := range pcm {
		if x > 10000 || x < -10000 {
			loud++
		}
	}
	if got := time.Duration(loud) * time.Second / 8000; got < 1500*time.Millisecond || got > 2500*time.Millisecond {
		t.Errorf("recording holds %s of the tone (%s long in all, %s in the log), want 2 s", got, time.Duration(len(pcm))*time.Second/8000, m[2])
	}
	if !strings.Contains(m[1], filepath.Join("voicemail", "hotline")) {
		t.Errorf("recording %s is not in the hotline mailbox", m[1])
	}
	k.idle()
}
