package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits of webhook lookups.
const (
	defaultLookupTimeout = 2 * time.Second
	maxLookupTimeout     = 30 * time.Second
	maxLookupBody        = 1 << 20
)

// lookupKind: find out about the caller, from the customer directory or a
// CRM webhook. Either way the call goes on: a CRM outage takes the error
// exit, never strands the caller.
//
//	who:
//	  type: lookup                   # source: directory is the default
//	  exits: {ok: vip_check, not_found: welcome, error: welcome}
//
//	crm:
//	  type: lookup
//	  source: webhook
//	  url: "http://crm.internal/api/customers/${caller}"   # ${…} parts are URL-escaped
//	  timeout: 2s                    # default 2s
//	  output:                        # variable: field of the JSON answer (a.b for nesting)
//	    balance: account.balance
//	  exits: {ok: say_balance, not_found: agent, error: agent}
//
// The directory fills the customer variable (customer.stars, customer.vip,
// customer.manager, …). A webhook answering 200 with a JSON object is ok,
// 404 is not_found, anything else (or no answer within the timeout) is
// error. A field that does not fit its variable leaves the variable as it
// was and is logged.
func lookupKind() *kind {
	return &kind{
		name:   "lookup",
		fields: []string{"source", "url", "timeout", "output"},
		exits:  []string{"ok", "not_found", errorExit},
		compile: func(c *nodeCompiler) behaviour {
			l := &lookup{source: "directory", timeout: c.duration("timeout", defaultLookupTimeout, 100*time.Millisecond, maxLookupTimeout)}
			if e, ok := c.field("source"); ok {
				if s, ok := c.scope.text("source", e); ok {
					if s != "directory" && s != "webhook" {
						c.errorf(e.valPos(), "source %q is not known; use directory or webhook", s)
					}
					l.source = s
				}
			}
			ue, hasURL := c.field("url")
			oe, hasOut := c.field("output")
			if l.source == "directory" {
				for _, x := range []struct {
					e   entry
					has bool
				}{{ue, hasURL}, {oe, hasOut}} {
					if x.has {
						c.errorf(x.e.keyPos, "%s: is for source: webhook; the directory fills the customer variable", x.e.key)
					}
				}
				return l
			}
			if !hasURL {
				c.missing("url", "url: the address of the webhook, with ${caller} where the number goes")
				return l
			}
			if raw, ok := c.scope.text("url", ue); ok {
				if u, err := url.Parse(strings.ReplaceAll(raw, "${", "x")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					c.errorf(ue.valPos(), "url %q must be an http:// or https:// address", raw)
				}
				l.url = compileTemplate(c.scope, "url", raw, ue.valPos(), c.flow.env, c.flow.vars)
				if l.url != nil {
					if name := l.url.usesSensitive(c.flow.vars); name != "" {
						c.warnf(ue.valPos(), "url sends the sensitive variable %q to the webhook; make sure the service may receive it", name)
					}
				}
			}
			if hasOut {
				entries, ok := c.mapEntries(oe.val, oe.keyPos, "output", dupField)
				if ok {
					for _, x := range entries {
						d := c.flow.vars[x.key]
						if d == nil {
							c.errorf(x.keyPos, "output: undeclared variable %q%s; declare it under vars:", x.key, didYouMean(x.key, declaredNames(c.flow.vars)))
							continue
						}
						if path, ok := c.scope.text("output "+x.key, x); ok {
							l.outputs = append(l.outputs, lookupOutput{d: d, path: strings.Split(path, ".")})
						}
					}
				}
			}
			return l
		},
	}
}

type lookupOutput struct {
	d    *varDecl
	path []string
}

type lookup struct {
	source  string
	url     *template
	timeout time.Duration
	outputs []lookupOutput
}

func (l *lookup) run(ctx context.Context, v *visit) (string, error) {
	if l.source == "directory" {
		return l.directory(ctx, v)
	}
	return l.webhook(ctx, v)
}

func (l *lookup) directory(ctx context.Context, v *visit) (string, error) {
	dir := v.r.opts.Services.Directory
	if dir == nil {
		v.r.trace("lookup", v.node.Name, "no customer directory configured")
		return errorExit, nil
	}
	lctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	cu, found, err := dir.Lookup(lctx, v.call.Caller())
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		v.r.log.Warn("customer directory lookup failed", "node", v.node.Name, "err", err)
		v.r.trace("lookup", v.node.Name, "directory failed: "+err.Error())
		return errorExit, nil
	}
	last := contactVars(cu.Last, v.r.now())
	if !found {
		v.r.customer = CustomerVars{Number: cu.Number, Extra: map[string]string{}, Repeat: cu.Repeat, Last: last}
		v.r.trace("lookup", v.node.Name, "caller not in the directory")
		return "not_found", nil
	}
	extra := cu.Extra
	if extra == nil {
		extra = map[string]string{}
	}
	v.r.customer = CustomerVars{Found: true, Number: cu.Number, Tier: cu.Tier, Stars: cu.Stars, Brand: cu.Brand, VIP: cu.VIP, Manager: cu.Manager, Extra: extra,
		Repeat: cu.Repeat, Last: last}
	v.r.trace("lookup", v.node.Name, fmt.Sprintf("customer: tier %s, %d stars, brand %s, vip %v, manager %q", cu.Tier, cu.Stars, cu.Brand, cu.VIP, cu.Manager))
	return "ok", nil
}

func (l *lookup) webhook(ctx context.Context, v *visit) (string, error) {
	if l.url == nil {
		return "", errors.New("lookup has no valid url")
	}
	u, err := l.url.render(v.env(), escapeURLValue)
	if err != nil {
		return "", err
	}
	lctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(lctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("webhook request: %w", withoutURL(err))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Kefu-Call-Id", v.call.ID())
	client := v.r.opts.Services.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		err = withoutURL(err)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		v.r.log.Warn("webhook lookup failed", "node", v.node.Name, "err", err)
		v.r.trace("lookup", v.node.Name, "webhook failed: "+err.Error())
		return errorExit, nil
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		v.r.trace("lookup", v.node.Name, "webhook: 404 not found")
		return "not_found", nil
	case resp.StatusCode != http.StatusOK:
		v.r.log.Warn("webhook lookup refused", "node", v.node.Name, "status", resp.StatusCode)
		v.r.trace("lookup", v.node.Name, fmt.Sprintf("webhook: status %d", resp.StatusCode))
		return errorExit, nil
	}
	var body map[string]any
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxLookupBody))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		v.r.log.Warn("webhook answer is not a JSON object", "node", v.node.Name, "err", err)
		v.r.trace("lookup", v.node.Name, "webhook: answer is not a JSON object")
		return errorExit, nil
	}
	for _, o := range l.outputs {
		raw, ok := jsonPath(body, o.path)
		if !ok {
			v.r.log.Warn("webhook answer lacks a field", "node", v.node.Name, "field", strings.Join(o.path, "."))
			continue
		}
		if n, isNum := raw.(json.Number); isNum {
			raw = n.String()
		}
		if err := v.set(o.d, raw); err != nil {
			v.r.log.Warn("webhook field does not fit its variable; left unchanged", "node", v.node.Name, "err", err)
		}
	}
	v.r.trace("lookup", v.node.Name, "webhook: ok")
	return "ok", nil
}

// withoutURL drops the address from an HTTP client's error: it may hold a
// sensitive variable's value, and errors end up in traces and logs.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// escapeURLValue escapes a value put into a webhook URL so that it stays
// one piece of data wherever it stands, in the path or the query: every
// byte but letters, digits and - _ . ~ is percent-encoded. (url.PathEscape
// leaves & = + as they are: a calling number "+86…" would reach the
// service as " 86…" in a query, and "1&admin=1" would add a parameter.)
// "." and ".." are encoded too, so that no server normalises them away as
// path steps.
func escapeURLValue(s string) string {
	if s == "." || s == ".." {
		return strings.Repeat("%2E", len(s))
	}
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// jsonPath follows a.b.c through nested JSON objects.
func jsonPath(body map[string]any, path []string) (any, bool) {
	var cur any = body
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// contactVars turns a last contact into customer.last.
func contactVars(c *Contact, now time.Time) ContactVars {
	if c == nil {
		return ContactVars{Survey: map[string]string{}}
	}
	survey := map[string]string{}
	for k, v := range c.Survey {
		survey[k] = v
	}
	return ContactVars{Found: true, HoursAgo: now.Sub(c.At).Hours(), Queue: c.Queue, Agent: c.Agent, Outcome: c.Outcome, Survey: survey}
}
