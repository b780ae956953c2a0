package ivrtest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

func TestParseScript(t *testing.T) {
	got, err := ivrtest.ParseScript("1, 2 ~9  - silence hangup queue:after_agent:1001 queue:max_wait 12#")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1", "2", "~9", "-", "silence", "hangup", "queue:after_agent:1001", "queue:max_wait", "12#"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"x", "~", "queue:maybe", "queue:max_wait:7", "1a", "Hangup"} {
		if _, err := ivrtest.ParseScript(bad); err == nil {
			t.Errorf("ParseScript(%q) accepted it", bad)
		}
	}
}

func TestNewScriptedCallPanicsOnBadToken(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	ivrtest.NewScriptedCall("nope")
}

func TestScriptedCall(t *testing.T) {
	ctx := context.Background()
	c := ivrtest.NewScriptedCall("~4", "1", "-", "queue:no_agents", "hangup")
	if c.ID() != "test-call" || c.Caller() == "" || c.Called() != "10086" {
		t.Errorf("identity %q %q %q", c.ID(), c.Caller(), c.Called())
	}
	// ~4 is typed during a prompt without barge-in; the prompt plays out.
	if err := c.Play(ctx, []string{"welcome"}, false); err != nil {
		t.Fatal(err)
	}
	if c.Buffered() != "4" {
		t.Errorf("buffered %q", c.Buffered())
	}
	// A buffered key cuts a barge-in prompt at once and is read first.
	if err := c.Play(ctx, []string{"menu"}, true); err != nil {
		t.Fatal(err)
	}
	if d, err := c.ReadDigit(ctx, time.Second); d != '4' || err != nil {
		t.Errorf("read %q %v", d, err)
	}
	c.FlushDigits()
	if d, err := c.ReadDigit(ctx, time.Second); d != '1' || err != nil {
		t.Errorf("read %q %v", d, err)
	}
	if _, err := c.ReadDigit(ctx, 2*time.Second); !errors.Is(err, ivr.ErrNoInput) {
		t.Errorf("silence: %v", err)
	}
	res, err := c.Queue(ctx, ivr.QueueRequest{Queue: "billing", Music: "hold_music"})
	if err != nil || res.Outcome != ivr.QueueNoAgents {
		t.Errorf("queue %+v %v", res, err)
	}
	if err := c.Play(ctx, []string{"sorry"}, false); !errors.Is(err, ivr.ErrHangup) {
		t.Errorf("hangup token: %v", err)
	}
	if _, err := c.ReadDigit(ctx, time.Second); !errors.Is(err, ivr.ErrHangup) {
		t.Errorf("after hangup: %v", err)
	}
	want := []string{
		"typed 4 during welcome",
		"play welcome",
		"play menu (cut short by a key)",
		"read 4",
		"flush",
		"read 1",
		"read: no input after 2s",
		"queue billing (music hold_music): no_agents",
		"caller hung up during play sorry",
	}
	if got := c.Transcript(); !slices.Equal(got, want) {
		t.Errorf("transcript %q\nwant       %q", got, want)
	}
	if q := c.QueueRequests(); len(q) != 1 || q[0].Music != "hold_music" {
		t.Errorf("queue requests %+v", q)
	}
	if len(c.Remaining()) != 0 {
		t.Errorf("remaining %q", c.Remaining())
	}
}

func TestScriptedCallEnds(t *testing.T) {
	c := ivrtest.NewScriptedCall()
	if err := c.Hangup(context.Background(), "normal"); err != nil {
		t.Fatal(err)
	}
	if err := c.Play(context.Background(), []string{"x"}, false); !errors.Is(err, ivr.ErrHangup) {
		t.Errorf("play after hangup: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = ivrtest.NewScriptedCall()
	if _, err := c.Queue(ctx, ivr.QueueRequest{Queue: "q"}); !errors.Is(err, ivr.ErrHangup) || !errors.Is(err, context.Canceled) {
		t.Errorf("queue with a done context: %v", err)
	}
}
