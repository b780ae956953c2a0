package sip

import (
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// The registrar tests run in a synctest bubble: time.Now is the bubble's clock,
// so granted expiries are exact and binding timers fire by advancing the clock
// with time.Sleep, never by waiting.

const (
	testRealm    = "kefu"
	phoneHost    = "192.0.2.10"
	phonePort    = 5062
	registrarURI = "sip:kefu.test"
)

var testPasswords = map[string]string{"1001": "kefu-1001", "1002": "kefu-1002"}

type notification struct {
	agent      string
	registered bool
}

type regFixture struct {
	r *registrar

	mu     sync.Mutex
	events []notification
}

func newRegFixture(t *testing.T, maxExpiry time.Duration) *regFixture {
	t.Helper()
	f := &regFixture{}
	f.r = newRegistrar(testPasswords, testRealm, maxExpiry, slog.New(slog.DiscardHandler), func(id string, registered bool) {
		f.mu.Lock()
		f.events = append(f.events, notification{id, registered})
		f.mu.Unlock()
	})
	t.Cleanup(f.r.close)
	return f
}

func (f *regFixture) notified() []notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *regFixture) wantNotified(t *testing.T, want ...notification) {
	t.Helper()
	if got := f.notified(); !slices.Equal(got, want) {
		t.Errorf("notify calls = %v, want %v", got, want)
	}
}

// regReq describes a REGISTER from a phone.
type regReq struct {
	user    string // To and From user: the agent id
	expires string // Expires header; "" for none
	contact sipmsg.Header
	noTo    bool
}

// phoneContact is the Contact of the phone at port: <sip:user@192.0.2.10:port>.
func phoneContact(user string, port int, params ...string) *sipmsg.ContactHeader {
	c := &sipmsg.ContactHeader{
		Address: sipmsg.Uri{Scheme: "sip", User: user, Host: phoneHost, Port: port},
		Params:  sipmsg.NewParams(),
	}
	for i := 0; i+1 < len(params); i += 2 {
		c.Params.Add(params[i], params[i+1])
	}
	return c
}

var wildcard = &sipmsg.ContactHeader{Address: sipmsg.Uri{Wildcard: true}}

// build makes the REGISTER, with an Authorization header if auth is not "".
func (g regReq) build(auth string) *sipmsg.Request {
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: "kefu.test"})
	via := &sipmsg.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
		Host: phoneHost, Port: phonePort, Params: sipmsg.NewParams(),
	}
	via.Params.Add("branch", sipmsg.GenerateBranch())
	req.AppendHeader(via)
	aor := sipmsg.Uri{Scheme: "sip", User: g.user, Host: "kefu.test"}
	if !g.noTo {
		req.AppendHeader(&sipmsg.ToHeader{Address: aor, Params: sipmsg.NewParams()})
	}
	from := &sipmsg.FromHeader{Address: aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", "phone-tag")
	req.AppendHeader(from)
	callID := sipmsg.CallIDHeader("reg-" + g.user)
	req.AppendHeader(&callID)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 1, MethodName: sipmsg.REGISTER})
	if g.contact != nil {
		req.AppendHeader(g.contact)
	}
	if g.expires != "" {
		req.AppendHeader(sipmsg.NewHeader("Expires", g.expires))
	}
	if auth != "" {
		req.AppendHeader(sipmsg.NewHeader("Authorization", auth))
	}
	req.SetSource(phoneHost + ":" + strconv.Itoa(phonePort))
	req.SetTransport("UDP")
	return req
}

// challengeOf parses the 401's WWW-Authenticate.
func challengeOf(t *testing.T, res *sipmsg.Response) *digest.Challenge {
	t.Helper()
	if res.StatusCode != sipmsg.StatusUnauthorized {
		t.Fatalf("status %d %s, want 401", res.StatusCode, res.Reason)
	}
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		t.Fatal("401 without WWW-Authenticate")
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatalf("challenge %q: %v", h.Value(), err)
	}
	return chal
}

// nonceCounts is the nonce count per nonce across answers in this test binary.
var nonceCounts = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// answer computes the Authorization a phone sends for chal.
// Like a phone, it counts nc up each time it answers the same nonce (a
// repeated count is a replay and is refused).
func answer(t *testing.T, chal *digest.Challenge, user, password string) string {
	t.Helper()
	nonceCounts.Lock()
	nonceCounts.n[chal.Nonce]++
	nc := nonceCounts.n[chal.Nonce]
	nonceCounts.Unlock()
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: registrarURI, Username: user, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// register does what a phone does: REGISTER, read the challenge, REGISTER
// again with the digest answer. It returns the final response.
func (f *regFixture) register(t *testing.T, g regReq, password string) *sipmsg.Response {
	t.Helper()
	chal := challengeOf(t, f.r.handle(g.build("")))
	return f.r.handle(g.build(answer(t, chal, g.user, password)))
}

// contactExpires returns the 200's Contact and its expires parameter.
func contactExpires(t *testing.T, res *sipmsg.Response) (string, int) {
	t.Helper()
	c := res.Contact()
	if c == nil {
		t.Fatalf("%d response has no Contact", res.StatusCode)
	}
	v, ok := c.Params.Get("expires")
	if !ok {
		t.Fatalf("Contact %q has no expires", c.Value())
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("Contact %q: %v", c.Value(), err)
	}
	return c.Address.String(), n
}

func wantStatus(t *testing.T, res *sipmsg.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("status %d %s, want %d", res.StatusCode, res.Reason, code)
	}
}

func (f *regFixture) wantUnbound(t *testing.T, agent string) {
	t.Helper()
	if u, ok := f.r.lookup(agent); ok {
		t.Errorf("lookup(%s) = %s, want no binding", agent, u.String())
	}
	if s, ok := f.r.snapshot()[agent]; ok {
		t.Errorf("snapshot has %s: %+v", agent, s)
	}
}

func TestRegistrarChallenge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		res := f.r.handle(regReq{user: "1001", expires: "3600", contact: phoneContact("1001", phonePort)}.build(""))
		chal := challengeOf(t, res)
		if chal.Realm != testRealm || chal.Algorithm != "MD5" || !slices.Equal(chal.QOP, []string{"auth"}) || chal.Stale {
			t.Errorf("challenge %+v, want realm %q, MD5, qop auth, not stale", chal, testRealm)
		}
		if fresh, ok := f.r.checkNonce(chal.Nonce); !fresh || !ok {
			t.Errorf("challenge nonce %q: fresh=%v ok=%v", chal.Nonce, fresh, ok)
		}
		if res.To() == nil || res.CallID() == nil || res.CSeq() == nil || res.Via() == nil {
			t.Errorf("401 lacks the request's To, Call-ID, CSeq or Via:\n%s", res)
		}
		f.wantUnbound(t, "1001")
		f.wantNotified(t)
	})
}

func TestRegistrarRegister(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		start := time.Now()
		res := f.register(t, regReq{user: "1001", expires: "3600", contact: phoneContact("1001", phonePort)}, "kefu-1001")
		wantStatus(t, res, sipmsg.StatusOK)
		contact, exp := contactExpires(t, res)
		if contact != "sip:1001@192.0.2.10:5062" || exp != 3600 {
			t.Errorf("Contact %s;expires=%d, want sip:1001@192.0.2.10:5062;expires=3600", contact, exp)
		}
		if res.GetHeader("Date") == nil {
			t.Error("200 without Date")
		}
		u, ok := f.r.lookup("1001")
		if !ok || u.String() != "sip:1001@192.0.2.10:5062" {
			t.Errorf("lookup = %s, %v", u.String(), ok)
		}
		want := map[string]Registration{"1001": {
			Contact: "sip:1001@192.0.2.10:5062", Source: "192.0.2.10:5062", Transport: "UDP", Expires: start.Add(time.Hour),
		}}
		if got := f.r.snapshot(); !mapsEqual(got, want) {
			t.Errorf("snapshot = %+v, want %+v", got, want)
		}
		f.wantNotified(t, notification{"1001", true})
		f.wantUnbound(t, "1002")
	})
}

// Old phones answer without qop (RFC 2069 style): response = H(A1:nonce:H(A2)).
func TestRegistrarDigestWithoutQOP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		g := regReq{user: "1001", expires: "600", contact: phoneContact("1001", phonePort)}
		chal := challengeOf(t, f.r.handle(g.build("")))
		chal.QOP = nil
		auth := answer(t, chal, "1001", "kefu-1001")
		if creds, _ := digest.ParseCredentials(auth); creds.QOP != "" || creds.Cnonce != "" {
			t.Fatalf("answer %q has qop or cnonce", auth)
		}
		res := f.r.handle(g.build(auth))
		wantStatus(t, res, sipmsg.StatusOK)
		if _, exp := contactExpires(t, res); exp != 600 {
			t.Errorf("expires=%d, want 600", exp)
		}
		f.wantNotified(t, notification{"1001", true})
	})
}

// Every refusal of a well-formed answer is the same 401 with a fresh
// challenge, so a caller cannot tell unknown agents from wrong passwords.
func TestRegistrarRefused(t *testing.T) {
	for _, tc := range []struct {
		name     string
		to       string // To user
		user     string // digest username
		password string
		edit     func(r *registrar, chal *digest.Challenge)
		creds    func(*digest.Credentials)
		stale    bool
	}{
		{name: "wrong password", to: "1001", user: "1001", password: "kefu-1002"},
		{name: "empty password", to: "1001", user: "1001", password: ""},
		{name: "unknown agent", to: "9999", user: "9999", password: "kefu-1001"},
		{name: "username not the To user", to: "1001", user: "1002", password: "kefu-1002"},
		{name: "username with a trailing space", to: "1001", user: "1001 ", password: "kefu-1001"},
		{name: "forged nonce", to: "1001", user: "1001", password: "kefu-1001", edit: func(_ *registrar, c *digest.Challenge) {
			b := []byte(c.Nonce)
			b[len(b)/2] ^= 1
			c.Nonce = string(b)
		}},
		{name: "nonce we never issued", to: "1001", user: "1001", password: "kefu-1001", edit: func(_ *registrar, c *digest.Challenge) {
			c.Nonce = newRegistrar(nil, testRealm, time.Hour, nil, nil).nonce(time.Now())
		}},
		{name: "nonce not base64", to: "1001", user: "1001", password: "kefu-1001", edit: func(_ *registrar, c *digest.Challenge) {
			c.Nonce = "not a nonce!"
		}},
		{name: "empty nonce", to: "1001", user: "1001", password: "kefu-1001", edit: func(_ *registrar, c *digest.Challenge) {
			c.Nonce = ""
		}},
		{name: "other realm", to: "1001", user: "1001", password: "kefu-1001", edit: func(_ *registrar, c *digest.Challenge) {
			c.Realm = "elsewhere"
		}},
		{name: "unsupported algorithm", to: "1001", user: "1001", password: "kefu-1001", creds: func(c *digest.Credentials) {
			c.Algorithm = "SHA-1"
		}},
		{name: "expired nonce", to: "1001", user: "1001", password: "kefu-1001", stale: true, edit: func(r *registrar, c *digest.Challenge) {
			c.Nonce = r.nonce(time.Now().Add(-10 * time.Minute))
		}},
		// RFC 7616 §3.3: stale=true only when the answer was right for the old
		// nonce; otherwise the phone would retry silently instead of asking.
		{name: "expired nonce, wrong password", to: "1001", user: "1001", password: "wrong", stale: false, edit: func(r *registrar, c *digest.Challenge) {
			c.Nonce = r.nonce(time.Now().Add(-10 * time.Minute))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newRegFixture(t, time.Hour)
				g := regReq{user: tc.to, expires: "3600", contact: phoneContact(tc.to, phonePort)}
				chal := challengeOf(t, f.r.handle(g.build("")))
				if tc.edit != nil {
					tc.edit(f.r, chal)
				}
				auth := answer(t, chal, tc.user, tc.password)
				if tc.creds != nil {
					creds, err := digest.ParseCredentials(auth)
					if err != nil {
						t.Fatal(err)
					}
					tc.creds(creds)
					auth = creds.String()
				}
				res := f.r.handle(g.build(auth))
				again := challengeOf(t, res)
				if again.Stale != tc.stale {
					t.Errorf("stale=%v, want %v", again.Stale, tc.stale)
				}
				if again.Realm != testRealm || again.Algorithm != "MD5" || !slices.Equal(again.QOP, []string{"auth"}) {
					t.Errorf("challenge %+v, want realm %q, MD5, qop auth", again, testRealm)
				}
				if fresh, ok := f.r.checkNonce(again.Nonce); !fresh || !ok {
					t.Errorf("new nonce %q: fresh=%v ok=%v", again.Nonce, fresh, ok)
				}
				f.wantUnbound(t, tc.to)
				f.wantUnbound(t, tc.user)
				f.wantNotified(t)
			})
		})
	}
}

// A nonce older than its lifetime asks the phone to retry with a new one.
func TestRegistrarNonceGoesStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		g := regReq{user: "1001", expires: "3600", contact: phoneContact("1001", phonePort)}
		chal := challengeOf(t, f.r.handle(g.build("")))
		time.Sleep(nonceLifetime - time.Second)
		wantStatus(t, f.r.handle(g.build(answer(t, chal, "1001", "kefu-1001"))), sipmsg.StatusOK)

		time.Sleep(time.Second)
		again := challengeOf(t, f.r.handle(g.build(answer(t, chal, "1001", "kefu-1001"))))
		if !again.Stale {
			t.Error("answer to an expired nonce: stale not set")
		}
		wantStatus(t, f.r.handle(g.build(answer(t, again, "1001", "kefu-1001"))), sipmsg.StatusOK)
		f.wantNotified(t, notification{"1001", true})
	})
}

func TestRegistrarBadRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func() *sipmsg.Request
	}{
		{"Basic credentials", func() *sipmsg.Request {
			return regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}.build("Basic MTAwMTprZWZ1LTEwMDE=")
		}},
		{"bad nc", func() *sipmsg.Request {
			return regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}.build(`Digest username="1001", nc=zz`)
		}},
		{"unterminated quote", func() *sipmsg.Request {
			return regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}.build(`Digest username="1001`)
		}},
		{"no parameters", func() *sipmsg.Request {
			return regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}.build(`Digest username`)
		}},
		{"empty Authorization", func() *sipmsg.Request {
			req := regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}.build("")
			req.AppendHeader(sipmsg.NewHeader("Authorization", ""))
			return req
		}},
		{"no To", func() *sipmsg.Request {
			return regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort), noTo: true}.build("")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newRegFixture(t, time.Hour)
				wantStatus(t, f.r.handle(tc.req()), sipmsg.StatusBadRequest)
				f.wantUnbound(t, "1001")
				f.wantNotified(t)
			})
		})
	}
}

// The lifetime granted: what the phone asks, at least a minute, at most the cap.
func TestRegistrarExpires(t *testing.T) {
	for _, tc := range []struct {
		name    string
		expires string
		contact *sipmsg.ContactHeader
		want    int // granted seconds; 0 means 423
	}{
		{"asks the cap", "3600", phoneContact("1001", phonePort), 3600},
		{"asks less", "120", phoneContact("1001", phonePort), 120},
		{"asks the minimum", "60", phoneContact("1001", phonePort), 60},
		{"asks above the cap", "7200", phoneContact("1001", phonePort), 3600},
		{"asks far above the cap", "4294967295", phoneContact("1001", phonePort), 3600},
		{"asks more seconds than a Duration holds", "9223372037", phoneContact("1001", phonePort), 3600},
		{"no Expires", "", phoneContact("1001", phonePort), 3600},
		{"Expires not a number", "soon", phoneContact("1001", phonePort), 3600},
		{"Expires negative", "-5", phoneContact("1001", phonePort), 3600},
		{"Expires with spaces", " 300 ", phoneContact("1001", phonePort), 300},
		{"Contact expires wins over Expires", "3600", phoneContact("1001", phonePort, "expires", "300"), 300},
		{"Contact expires above the cap", "", phoneContact("1001", phonePort, "expires", "86400"), 3600},
		{"Contact expires not a number", "120", phoneContact("1001", phonePort, "expires", "x"), 120},
		{"too brief", "30", phoneContact("1001", phonePort), 0},
		{"one second short", "59", phoneContact("1001", phonePort), 0},
		{"Contact expires too brief", "3600", phoneContact("1001", phonePort, "expires", "30"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newRegFixture(t, time.Hour)
				res := f.register(t, regReq{user: "1001", expires: tc.expires, contact: tc.contact}, "kefu-1001")
				if tc.want == 0 {
					wantStatus(t, res, 423)
					if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
						t.Errorf("Min-Expires = %v, want 60", h)
					}
					f.wantUnbound(t, "1001")
					f.wantNotified(t)
					return
				}
				wantStatus(t, res, sipmsg.StatusOK)
				if _, exp := contactExpires(t, res); exp != tc.want {
					t.Errorf("granted expires=%d, want %d", exp, tc.want)
				}
				if got, want := f.r.snapshot()["1001"].Expires, time.Now().Add(time.Duration(tc.want)*time.Second); !got.Equal(want) {
					t.Errorf("binding expires %v, want %v", got, want)
				}
				f.wantNotified(t, notification{"1001", true})
			})
		})
	}
}

func TestRegistrarUnregister(t *testing.T) {
	for _, tc := range []struct {
		name    string
		expires string
		contact sipmsg.Header
	}{
		{"Expires: 0", "0", phoneContact("1001", phonePort)},
		{"Contact expires=0", "3600", phoneContact("1001", phonePort, "expires", "0")},
		{"Contact: * with Expires: 0", "0", wildcard},
		{"other contact with Expires: 0", "0", phoneContact("1001", 5070)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newRegFixture(t, time.Hour)
				wantStatus(t, f.register(t, regReq{user: "1001", expires: "3600", contact: phoneContact("1001", phonePort)}, "kefu-1001"), sipmsg.StatusOK)
				wantStatus(t, f.register(t, regReq{user: "1002", expires: "3600", contact: phoneContact("1002", 5064)}, "kefu-1002"), sipmsg.StatusOK)

				res := f.register(t, regReq{user: "1001", expires: tc.expires, contact: tc.contact}, "kefu-1001")
				wantStatus(t, res, sipmsg.StatusOK)
				if c := res.Contact(); c != nil {
					t.Errorf("200 to an unregister lists Contact %s", c.Value())
				}
				f.wantUnbound(t, "1001")
				if _, ok := f.r.lookup("1002"); !ok {
					t.Error("1002's binding went too")
				}
				f.wantNotified(t, notification{"1001", true}, notification{"1002", true}, notification{"1001", false})

				// Unregistering again is fine and says nothing new.
				wantStatus(t, f.register(t, regReq{user: "1001", expires: tc.expires, contact: tc.contact}, "kefu-1001"), sipmsg.StatusOK)
				f.wantNotified(t, notification{"1001", true}, notification{"1002", true}, notification{"1001", false})
			})
		})
	}
}

func TestRegistrarWildcardNeedsExpiresZero(t *testing.T) {
	for _, expires := range []string{"60", "3600", ""} {
		t.Run("Expires "+expires, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newRegFixture(t, time.Hour)
				wantStatus(t, f.register(t, regReq{user: "1001", expires: "3600", contact: phoneContact("1001", phonePort)}, "kefu-1001"), sipmsg.StatusOK)
				wantStatus(t, f.register(t, regReq{user: "1001", expires: expires, contact: wildcard}, "kefu-1001"), sipmsg.StatusBadRequest)
				if _, ok := f.r.lookup("1001"); !ok {
					t.Error("binding removed by a refused Contact: *")
				}
				f.wantNotified(t, notification{"1001", true})
			})
		})
	}
}

// A REGISTER without Contact asks for the current binding (RFC 3261 §10.2.3).
func TestRegistrarQuery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		res := f.register(t, regReq{user: "1001"}, "kefu-1001")
		wantStatus(t, res, sipmsg.StatusOK)
		if c := res.Contact(); c != nil {
			t.Errorf("query with no binding lists Contact %s", c.Value())
		}
		f.wantUnbound(t, "1001")

		wantStatus(t, f.register(t, regReq{user: "1001", expires: "600", contact: phoneContact("1001", phonePort)}, "kefu-1001"), sipmsg.StatusOK)
		time.Sleep(100 * time.Second)
		res = f.register(t, regReq{user: "1001", expires: "0"}, "kefu-1001")
		wantStatus(t, res, sipmsg.StatusOK)
		if c, exp := contactExpires(t, res); c != "sip:1001@192.0.2.10:5062" || exp != 500 {
			t.Errorf("query: Contact %s;expires=%d, want sip:1001@192.0.2.10:5062;expires=500", c, exp)
		}
		if _, ok := f.r.lookup("1001"); !ok {
			t.Error("a query without Contact removed the binding")
		}
		f.wantNotified(t, notification{"1001", true})
	})
}

// The most recent REGISTER wins; a refresh neither duplicates the binding
// nor notifies again, and the old lifetime no longer applies.
func TestRegistrarRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		wantStatus(t, f.register(t, regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}, "kefu-1001"), sipmsg.StatusOK)
		time.Sleep(50 * time.Second)
		res := f.register(t, regReq{user: "1001", expires: "120", contact: phoneContact("1001", 5070)}, "kefu-1001")
		wantStatus(t, res, sipmsg.StatusOK)
		if c, exp := contactExpires(t, res); c != "sip:1001@192.0.2.10:5070" || exp != 120 {
			t.Errorf("refresh: Contact %s;expires=%d, want sip:1001@192.0.2.10:5070;expires=120", c, exp)
		}
		if s := f.r.snapshot(); len(s) != 1 || s["1001"].Contact != "sip:1001@192.0.2.10:5070" {
			t.Errorf("snapshot after refresh = %+v, want one binding at port 5070", s)
		}

		time.Sleep(60 * time.Second) // past the first REGISTER's expiry
		synctest.Wait()
		if u, ok := f.r.lookup("1001"); !ok || u.Port != 5070 {
			t.Errorf("after the first lifetime: lookup = %s, %v; want the refreshed binding", u.String(), ok)
		}
		f.wantNotified(t, notification{"1001", true})

		time.Sleep(60 * time.Second) // past the refresh's expiry
		synctest.Wait()
		f.wantUnbound(t, "1001")
		f.wantNotified(t, notification{"1001", true}, notification{"1001", false})
	})
}

// A binding's timer removes it when its lifetime ends.
func TestRegistrarBindingExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		wantStatus(t, f.register(t, regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}, "kefu-1001"), sipmsg.StatusOK)
		wantStatus(t, f.register(t, regReq{user: "1002", expires: "3600", contact: phoneContact("1002", 5064)}, "kefu-1002"), sipmsg.StatusOK)
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if _, ok := f.r.lookup("1001"); !ok {
			t.Fatal("binding gone before its lifetime ended")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		f.wantUnbound(t, "1001")
		if _, ok := f.r.lookup("1002"); !ok {
			t.Error("1002's binding expired with 1001's")
		}
		f.wantNotified(t, notification{"1001", true}, notification{"1002", true}, notification{"1001", false})
	})
}

func TestRegistrarExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		wantStatus(t, f.register(t, regReq{user: "1001", expires: "3600", contact: phoneContact("1001", phonePort)}, "kefu-1001"), sipmsg.StatusOK)
		old := f.r.bindings["1001"]
		wantStatus(t, f.register(t, regReq{user: "1001", expires: "3600", contact: phoneContact("1001", 5070)}, "kefu-1001"), sipmsg.StatusOK)
		cur := f.r.bindings["1001"]
		if old == cur {
			t.Fatal("refresh kept the binding pointer")
		}

		// A timer of a replaced binding that fired anyway does nothing.
		f.r.expire("1001", old)
		if u, ok := f.r.lookup("1001"); !ok || u.Port != 5070 {
			t.Errorf("stale expire: lookup = %s, %v; want the current binding", u.String(), ok)
		}
		f.r.expire("1002", cur) // no binding for 1002
		f.wantNotified(t, notification{"1001", true})

		f.r.expire("1001", cur)
		f.wantUnbound(t, "1001")
		f.wantNotified(t, notification{"1001", true}, notification{"1001", false})

		f.r.expire("1001", cur) // twice: nothing more
		f.wantNotified(t, notification{"1001", true}, notification{"1001", false})
	})
}

func TestRegistrarClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRegFixture(t, time.Hour)
		wantStatus(t, f.register(t, regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}, "kefu-1001"), sipmsg.StatusOK)
		f.r.close()
		f.r.close() // idempotent

		time.Sleep(2 * time.Minute)
		synctest.Wait()
		f.wantNotified(t, notification{"1001", true}) // the timer was stopped

		res := f.register(t, regReq{user: "1002", expires: "3600", contact: phoneContact("1002", 5064)}, "kefu-1002")
		wantStatus(t, res, sipmsg.StatusServiceUnavailable)
		f.wantUnbound(t, "1002")
		f.wantNotified(t, notification{"1001", true})
	})
}

func TestRegistrarNilNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRegistrar(testPasswords, testRealm, time.Hour, slog.New(slog.DiscardHandler), nil)
		defer r.close()
		f := &regFixture{r: r}
		g := regReq{user: "1001", expires: "60", contact: phoneContact("1001", phonePort)}
		wantStatus(t, f.register(t, g, "kefu-1001"), sipmsg.StatusOK)
		time.Sleep(time.Minute)
		synctest.Wait()
		f.wantUnbound(t, "1001")
		wantStatus(t, f.register(t, g, "kefu-1001"), sipmsg.StatusOK)
		g.expires = "0"
		wantStatus(t, f.register(t, g, "kefu-1001"), sipmsg.StatusOK)
		f.wantUnbound(t, "1001")
	})
}

func mapsEqual(a, b map[string]Registration) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || va.Contact != vb.Contact || va.Source != vb.Source || va.Transport != vb.Transport || !va.Expires.Equal(vb.Expires) {
			return false
		}
	}
	return true
}

// TestRegisterReplay: a REGISTER captured off the wire and sent again (same
// nonce and count, here with another Contact) is refused and moves nothing.
func TestRegisterReplay(t *testing.T) {
	r := newRegistrar(map[string]string{"1001": "pw"}, "kefu", time.Hour, slog.New(slog.DiscardHandler), nil)
	defer r.close()
	chal := challengeOf(t, r.handle(regReq{user: "1001", contact: phoneContact("1001", 5070)}.build("")))
	auth := func(nc int) string {
		c, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:kefu.test", Username: "1001", Password: "pw", Count: nc})
		if err != nil {
			t.Fatal(err)
		}
		return c.String()
	}
	first := auth(1)
	if res := r.handle(regReq{user: "1001", contact: phoneContact("1001", 5070)}.build(first)); res.StatusCode != 200 {
		t.Fatalf("first REGISTER: %d", res.StatusCode)
	}
	if res := r.handle(regReq{user: "1001", contact: phoneContact("1001", 6666)}.build(first)); res.StatusCode != 401 {
		t.Errorf("replayed REGISTER: %d, want 401", res.StatusCode)
	}
	if got, _ := r.lookup("1001"); got.Port != 5070 {
		t.Errorf("replay moved the binding to port %d", got.Port)
	}
	// The phone's next REGISTER on the same nonce counts up and is accepted.
	if res := r.handle(regReq{user: "1001", contact: phoneContact("1001", 5070)}.build(auth(2))); res.StatusCode != 200 {
		t.Errorf("next REGISTER with nc=2: %d, want 200", res.StatusCode)
	}
}
