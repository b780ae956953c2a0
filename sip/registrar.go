package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Registration is an agent phone's live binding.
type Registration struct {
	Contact   string    `json:"contact"`
	Source    string    `json:"source"`
	Transport string    `json:"transport"`
	Expires   time.Time `json:"expires"`
}

type binding struct {
	contact   sipmsg.Uri
	source    string
	transport string
	expires   time.Time
	timer     *time.Timer
}

// registrar authenticates agents' phones with digest (RFC 8760 MD5/SHA-256 as
// the phone chooses from our challenge) and keeps one binding per agent: the
// most recent REGISTER wins.
type registrar struct {
	passwords map[string]string
	realm     string
	maxExpiry time.Duration
	log       *slog.Logger
	notify    func(agentID string, registered bool)
	secret    []byte // signs nonces, so no nonce state is kept

	// opMu orders registrations, so that the notifications for one agent
	// (registered, unregistered) happen in the order the REGISTERs did.
	opMu     sync.Mutex
	mu       sync.Mutex
	bindings map[string]*binding
	nonces   map[string]nonceUse
	closed   bool
}

const (
	minExpiry     = 60 * time.Second
	nonceLifetime = 5 * time.Minute
	maxNonces     = 100_000
)

// nonceUse is what the registrar remembers of an answered nonce.
type nonceUse struct {
	issued time.Time // when first answered; entries older than a lifetime go
	nc     int       // highest nonce count seen
}

func newRegistrar(passwords map[string]string, realm string, maxExpiry time.Duration, log *slog.Logger, notify func(string, bool)) *registrar {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // cannot happen on supported platforms
	}
	return &registrar{
		passwords: passwords,
		realm:     realm,
		maxExpiry: maxExpiry,
		log:       log,
		notify:    notify,
		secret:    secret,
		bindings:  map[string]*binding{},
		nonces:    map[string]nonceUse{},
	}
}

func (r *registrar) onRegister(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	res := r.handle(req)
	if err := tx.Respond(res); err != nil {
		r.log.Debug("register: respond failed", "err", err)
	}
}

func (r *registrar) handle(req *sipmsg.Request) *sipmsg.Response {
	to := req.To()
	if to == nil {
		return sipmsg.NewResponseFromRequest(req, sipmsg.StatusBadRequest, "Bad Request: no To header", nil)
	}
	agent := to.Address.User
	password, known := r.passwords[agent]

	h := req.GetHeader("Authorization")
	if h == nil {
		return r.challenge(req, false)
	}
	creds, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return sipmsg.NewResponseFromRequest(req, sipmsg.StatusBadRequest, "Bad Request: malformed Authorization header", nil)
	}
	if !known || creds.Username != agent {
		// Same answer as a wrong password: do not reveal which agent ids exist.
		r.log.Warn("register: refused", "agent", agent, "user", creds.Username, "source", req.Source(), "why", "unknown agent or user does not match To")
		return r.challenge(req, false)
	}
	fresh, ok := r.checkNonce(creds.Nonce)
	if !ok {
		return r.challenge(req, false)
	}
	if creds.Realm != r.realm {
		return r.challenge(req, false)
	}
	chal := &digest.Challenge{Realm: creds.Realm, Nonce: creds.Nonce, Opaque: creds.Opaque, Algorithm: creds.Algorithm}
	if creds.QOP != "" {
		chal.QOP = []string{creds.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: "REGISTER", URI: creds.URI, Username: agent, Password: password,
		Count: creds.Nc, Cnonce: creds.Cnonce,
	})
	if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(creds.Response)) != 1 {
		r.log.Warn("register: wrong password", "agent", agent, "source", req.Source())
		return r.challenge(req, false)
	}
	if !fresh {
		// Right answer to an old nonce: stale=true lets the phone retry at once
		// (RFC 7616 §3.3 sets it only when the response was valid).
		return r.challenge(req, true)
	}
	if !r.useNonce(creds.Nonce, creds.Nc) {
		// A captured REGISTER played again (same nonce and count), perhaps with
		// another Contact: qop=auth does not cover Contact, so refuse it.
		r.log.Warn("register: replayed credentials refused", "agent", agent, "source", req.Source())
		return r.challenge(req, true)
	}
	r.opMu.Lock()
	defer r.opMu.Unlock()
	return r.bind(req, agent)
}

// useNonce records that a nonce was answered with count nc and reports whether
// that count is new: counts must grow per nonce (RFC 7616 §3.4), and a nonce
// answered without qop (nc 0) serves once. Entries go once the nonce expires.
func (r *registrar) useNonce(nonce string, nc int) bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.nonces) >= maxNonces {
		for n, u := range r.nonces {
			if now.Sub(u.issued) > nonceLifetime {
				delete(r.nonces, n)
			}
		}
		if len(r.nonces) >= maxNonces {
			return false // under a flood: ask for a fresh nonce
		}
	}
	u, seen := r.nonces[nonce]
	if seen && nc <= u.nc {
		return false
	}
	if !seen {
		u.issued = now
	}
	u.nc = nc
	r.nonces[nonce] = u
	return true
}

// challenge answers 401 with a fresh signed nonce.
func (r *registrar) challenge(req *sipmsg.Request, stale bool) *sipmsg.Response {
	chal := digest.Challenge{
		Realm:     r.realm,
		Nonce:     r.nonce(time.Now()),
		Algorithm: "MD5",
		QOP:       []string{"auth"},
		Stale:     stale,
	}
	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(sipmsg.NewHeader("WWW-Authenticate", chal.String()))
	return res
}

// nonce is issue time + HMAC(secret, issue time), so any nonce we issued can be
// checked without remembering it.
func (r *registrar) nonce(now time.Time) string {
	b := make([]byte, 8, 8+sha256.Size)
	binary.BigEndian.PutUint64(b, uint64(now.UnixNano()))
	m := hmac.New(sha256.New, r.secret)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b))
}

// checkNonce reports whether we issued the nonce (ok) and whether it is still
// within its lifetime (fresh).
func (r *registrar) checkNonce(n string) (fresh, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(raw) != 8+sha256.Size {
		return false, false
	}
	m := hmac.New(sha256.New, r.secret)
	m.Write(raw[:8])
	if !hmac.Equal(m.Sum(nil), raw[8:]) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	return time.Since(issued) < nonceLifetime, true
}

// bind applies an authenticated REGISTER: add, refresh or remove the binding.
func (r *registrar) bind(req *sipmsg.Request, agent string) *sipmsg.Response {
	expiry := r.maxExpiry
	if h := req.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && v >= 0 {
			expiry = time.Duration(min(v, math.MaxInt32)) * time.Second // no overflow
		}
	}
	contact := req.Contact()
	if contact == nil {
		// A query: report the current binding.
		return r.ok(req, agent)
	}
	if contact.Address.Wildcard {
		if expiry != 0 {
			return sipmsg.NewResponseFromRequest(req, sipmsg.StatusBadRequest, "Bad Request: Contact * needs Expires: 0", nil)
		}
		r.remove(agent)
		return r.ok(req, agent)
	}
	if v, ok := contact.Params.Get("expires"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			expiry = time.Duration(min(n, math.MaxInt32)) * time.Second
		}
	}
	if expiry == 0 {
		r.remove(agent)
		return r.ok(req, agent)
	}
	if expiry < minExpiry {
		res := sipmsg.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
		res.AppendHeader(sipmsg.NewHeader("Min-Expires", strconv.Itoa(int(minExpiry/time.Second))))
		return res
	}
	expiry = min(expiry, r.maxExpiry)

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return sipmsg.NewResponseFromRequest(req, sipmsg.StatusServiceUnavailable, "Service Unavailable", nil)
	}
	b, had := r.bindings[agent]
	if had {
		b.timer.Stop()
	}
	nb := &binding{
		contact:   *contact.Address.Clone(),
		source:    req.Source(),
		transport: req.Transport(),
		expires:   time.Now().Add(expiry),
	}
	nb.timer = time.AfterFunc(expiry, func() { r.expire(agent, nb) })
	r.bindings[agent] = nb
	r.mu.Unlock()
	if !had {
		r.log.Info("agent registered", "agent", agent, "contact", nb.contact.String(), "source", nb.source, "expires", expiry)
		if r.notify != nil {
			r.notify(agent, true)
		}
	}
	return r.ok(req, agent)
}

func (r *registrar) ok(req *sipmsg.Request, agent string) *sipmsg.Response {
	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", nil)
	r.mu.Lock()
	b := r.bindings[agent]
	r.mu.Unlock()
	if b != nil {
		secs := int(time.Until(b.expires).Round(time.Second) / time.Second)
		c := &sipmsg.ContactHeader{Address: *b.contact.Clone()}
		c.Params = sipmsg.NewParams()
		c.Params.Add("expires", strconv.Itoa(max(secs, 0)))
		res.AppendHeader(c)
	}
	res.AppendHeader(sipmsg.NewHeader("Date", time.Now().UTC().Format(time.RFC1123)))
	return res
}

func (r *registrar) remove(agent string) {
	r.mu.Lock()
	b, ok := r.bindings[agent]
	if ok {
		b.timer.Stop()
		delete(r.bindings, agent)
	}
	r.mu.Unlock()
	if ok {
		r.log.Info("agent unregistered", "agent", agent)
		if r.notify != nil {
			r.notify(agent, false)
		}
	}
}

func (r *registrar) expire(agent string, b *binding) {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	r.mu.Lock()
	cur, ok := r.bindings[agent]
	if !ok || cur != b {
		r.mu.Unlock()
		return
	}
	delete(r.bindings, agent)
	r.mu.Unlock()
	r.log.Info("agent registration expired", "agent", agent)
	if r.notify != nil {
		r.notify(agent, false)
	}
}

// lookup returns where to send an INVITE for the agent: the registered Contact.
// (Phones behind NAT that advertise a private Contact are not handled yet.)
func (r *registrar) lookup(agent string) (target sipmsg.Uri, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.bindings[agent]
	if !ok || time.Now().After(b.expires) {
		return sipmsg.Uri{}, false
	}
	return *b.contact.Clone(), true
}

func (r *registrar) snapshot() map[string]Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Registration, len(r.bindings))
	for id, b := range r.bindings {
		out[id] = Registration{Contact: b.contact.String(), Source: b.source, Transport: b.transport, Expires: b.expires}
	}
	return out
}

func (r *registrar) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, b := range r.bindings {
		b.timer.Stop()
	}
}

var errNotRegistered = errors.New("agent's phone is not registered")
