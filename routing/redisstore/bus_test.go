package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
	"kefu/routing/redisstore"
)

// TestBus: two subscribers of one node both receive an event published to
// it, a subscriber of another node does not, and ending a subscription's
// context closes its channel.
func TestBus(t *testing.T) {
	r := startRedis(t)
	s, err := redisstore.New(r.client, "bus")
	if err != nil {
		t.Fatal(err)
	}
	// A second store value on its own client, as another Kefu node would be.
	client2 := redis.NewClient(&redis.Options{Addr: r.client.Options().Addr})
	t.Cleanup(func() { client2.Close() })
	other, err := redisstore.New(client2, "bus")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ctx1, cancel1 := context.WithCancel(ctx)
	defer cancel1()
	sub1, err := s.Bus().Subscribe(ctx1, "n1")
	if err != nil {
		t.Fatal(err)
	}
	sub2, err := other.Bus().Subscribe(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	subOther, err := s.Bus().Subscribe(ctx, "n2")
	if err != nil {
		t.Fatal(err)
	}
	// Another prefix is another store: its bus is apart.
	apart, err := redisstore.New(r.client, "apart")
	if err != nil {
		t.Fatal(err)
	}
	subApart, err := apart.Bus().Subscribe(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	want := routing.Event{Kind: routing.EventOffer, Offer: routing.Offer{CallID: "c1", AgentID: "a1", Queue: "billing",
		Token: 7, At: time.Date(2025, 3, 1, 9, 0, 0, 5, time.UTC), Node: "n1"}}
	if err := other.Bus().Publish(ctx, "n1", want); err != nil {
		t.Fatal(err)
	}
	overflow := routing.Event{Kind: routing.EventOverflow, Offer: routing.Offer{CallID: "c2", Queue: "billing", At: want.Offer.At}}
	if err := s.Bus().Publish(ctx, "n1", overflow); err != nil {
		t.Fatal(err)
	}
	for i, sub := range []<-chan routing.Event{sub1, sub2} {
		for _, w := range []routing.Event{want, overflow} {
			select {
			case got := <-sub:
				if got != w {
					t.Fatalf("subscriber %d got %+v, want %+v", i+1, got, w)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("subscriber %d: no event", i+1)
			}
		}
	}
	for _, sub := range []<-chan routing.Event{subOther, subApart} {
		select {
		case got := <-sub:
			t.Fatalf("event for n1 delivered elsewhere: %+v", got)
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Ending the context closes the channel.
	cancel1()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-sub1:
			if !ok {
				goto closed
			}
		case <-deadline:
			t.Fatal("channel not closed after its context ended")
		}
	}
closed:
	// The other subscriber still works.
	if err := s.Bus().Publish(ctx, "n1", want); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub2:
		if got != want {
			t.Fatalf("got %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event after the other subscription ended")
	}
	// Publishing to a node nobody listens to is not an error.
	if err := s.Bus().Publish(ctx, "nobody", want); err != nil {
		t.Fatal(err)
	}
	// Subscribe fails when Redis is unreachable.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	closedClient := redis.NewClient(&redis.Options{Addr: r.client.Options().Addr})
	closedClient.Close()
	dead, err := redisstore.New(closedClient, "dead")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Bus().Subscribe(cctx, "n1"); err == nil {
		t.Fatal("Subscribe on a closed client succeeded")
	}
}
