package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Hand-written SIP requests, for the cases no well-behaved phone would send.
// "{local}" and "{proto}" are filled in once the socket is open.

func invite(k *testKefu, number, contentType, body string) string {
	ct := ""
	if contentType != "" {
		ct = "Content-Type: " + contentType + "\r\n"
	}
	return fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\n"+
		"Via: SIP/2.0/{proto} {local};branch=z9hG4bK%d;rport\r\n"+
		"From: <sip:13900000009@127.0.0.1>;tag=%d\r\n"+
		"To: <sip:%s@%s>\r\n"+
		"Call-ID: raw-%d\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:13900000009@{local}>\r\n"+
		"Max-Forwards: 70\r\n"+
		"%sContent-Length: %d\r\n\r\n%s",
		number, k.sip, rand.Int64(), rand.Int64(), number, k.sip, rand.Int64(), ct, len(body), body)
}

func request(k *testKefu, method, uri, to, contentType, body string) string {
	ct := ""
	if contentType != "" {
		ct = "Content-Type: " + contentType + "\r\n"
	}
	if to == "" {
		to = "<sip:kefu@127.0.0.1>"
	} else {
		to = "<sip:kefu@127.0.0.1>;" + strings.SplitN(to, ";", 2)[1]
	}
	return fmt.Sprintf("%s %s SIP/2.0\r\n"+
		"Via: SIP/2.0/{proto} {local};branch=z9hG4bK%d;rport\r\n"+
		"From: <sip:13900000009@127.0.0.1>;tag=%d\r\n"+
		"To: %s\r\n"+
		"Call-ID: raw-%d\r\n"+
		"CSeq: 1 %s\r\n"+
		"Contact: <sip:13900000009@{local}>\r\n"+
		"Max-Forwards: 70\r\n"+
		"%sContent-Length: %d\r\n\r\n%s",
		method, uri, rand.Int64(), rand.Int64(), to, rand.Int64(), method, ct, len(body), body)
}

// sipHeader returns the value of the first header called name in a raw SIP
// message ("" if none).
func sipHeader(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func sdpOffer(rtpmap string) string {
	pt := strings.Fields(rtpmap)[0]
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP " + pt + "\r\na=rtpmap:" + rtpmap + "\r\n"
}

// rawExchange sends raw over network to addr from 127.0.0.1 and returns the
// first final (non-100) status code received.
func rawExchange(t *testing.T, network string, addr netip.AddrPort, raw string) int {
	t.Helper()
	conn, err := net.Dial(network, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := strings.ReplaceAll(raw, "{local}", conn.LocalAddr().String())
	msg = strings.ReplaceAll(msg, "{proto}", strings.ToUpper(network))
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	buf := make([]byte, 65535)
	for {
		var first string
		if network == "udp" {
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			first, _, _ = strings.Cut(string(buf[:n]), "\r\n")
		} else {
			first, err = r.ReadString('\n')
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			// Skip the rest of this response's headers and body.
			length := 0
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("truncated response: %v", err)
				}
				l = strings.TrimSpace(l)
				if l == "" {
					break
				}
				if k, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(k, "Content-Length") || k == "l") {
					length, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
			if _, err := r.Discard(length); err != nil {
				t.Fatal(err)
			}
		}
		f := strings.Fields(first)
		if len(f) < 2 || f[0] != "SIP/2.0" {
			t.Fatalf("not a SIP response: %q", first)
		}
		code, _ := strconv.Atoi(f[1])
		if code != 100 {
			return code
		}
	}
}
