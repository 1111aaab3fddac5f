package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// cookieName is the session cookie; signinCookie guards the sign-in form.
const (
	cookieName   = "ehigate_console"
	signinCookie = "ehigate_console_signin"
)

// session is a signed-in user. The credential stays here, on the server.
type session struct {
	id         string
	credential string
	csrf       string
	created    time.Time
	seen       time.Time
	flash      *flash
}

// sessions are the live sessions, by id.
type sessions struct {
	mu        sync.Mutex
	m         map[string]*session
	clock     func() time.Time
	idle, max time.Duration
	limit     int
}

func newSessions(clock func() time.Time, idle, max time.Duration, limit int) *sessions {
	return &sessions{m: map[string]*session{}, clock: clock, idle: idle, max: max, limit: limit}
}

// randomToken returns 256 random bits, base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for credential.
func (s *sessions) create(credential string) *session {
	now := s.clock()
	ss := &session{id: randomToken(), credential: credential, csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	for len(s.m) >= s.limit {
		var oldest *session
		for _, o := range s.m {
			if oldest == nil || o.created.Before(oldest.created) {
				oldest = o
			}
		}
		delete(s.m, oldest.id)
	}
	s.m[ss.id] = ss
	return ss
}

// sweep drops expired sessions; s.mu is held.
func (s *sessions) sweep(now time.Time) {
	for id, ss := range s.m {
		if s.expired(ss, now) {
			delete(s.m, id)
		}
	}
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.seen) >= s.idle || now.Sub(ss.created) >= s.max
}

// get returns the request's live session (nil when none), marking it
// used.
func (s *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[c.Value]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) {
		delete(s.m, ss.id)
		return nil
	}
	ss.seen = now
	return ss
}

// drop ends a session.
func (s *sessions) drop(ss *session) {
	s.mu.Lock()
	delete(s.m, ss.id)
	s.mu.Unlock()
}

// setFlash keeps a message for the next page of ss.
func (s *sessions) setFlash(ss *session, f flash) {
	s.mu.Lock()
	ss.flash = &f
	s.mu.Unlock()
}

// takeFlash returns and clears the message of ss.
func (s *sessions) takeFlash(ss *session) *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := ss.flash
	ss.flash = nil
	return f
}

// checkCSRF reports whether the form's csrf field is ss's token.
func checkCSRF(ss *session, r *http.Request) bool {
	return ss != nil && sameToken(r.PostFormValue("csrf"), ss.csrf)
}

// sameToken compares tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// setCookie sets a console cookie (value "" deletes it).
func setCookie(w http.ResponseWriter, r *http.Request, name, value string) {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// signed wraps a page that needs a session: GETs without one go to the
// sign-in page; POSTs also need the session's CSRF token.
func (h *Handler) signed(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := h.sessions.get(r)
		if ss == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
				return
			}
			h.render(w, r, http.StatusForbidden, "signin", page{Title: "Sign in",
				Error: "Your session has ended. Sign in again.", Data: h.signinToken(w, r)})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !checkCSRF(ss, r) {
				h.render(w, r, http.StatusForbidden, "error", page{Title: "Refused", Session: ss,
					Error: "The form was refused: it did not carry this session's security token. Reload the page and try again."})
				return
			}
		}
		fn(w, r, ss)
	}
}

// signinToken sets the sign-in form's double-submit token.
func (h *Handler) signinToken(w http.ResponseWriter, r *http.Request) string {
	t := randomToken()
	setCookie(w, r, signinCookie, t)
	return t
}

func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request) {
	if h.sessions.get(r) != nil {
		http.Redirect(w, r, Prefix+"decisions", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: h.signinToken(w, r)})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	refuse := func(status int, msg string) {
		h.render(w, r, status, "signin", page{Title: "Sign in", Error: msg, Data: h.signinToken(w, r)})
	}
	c, err := r.Cookie(signinCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		refuse(http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	cred := trimCredential(r.PostFormValue("credential"))
	if cred == "" {
		refuse(http.StatusBadRequest, "Enter your admin token or JWT.")
		return
	}
	addr, now := clientAddr(r), h.opts.Clock()
	if wait := h.guard.wait(addr, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		refuse(http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins from this address; try again in %s.", human(wait)))
		return
	}
	// A cheap API call checks the credential (and journals the sign-in).
	res := h.call(r, &session{credential: cred}, http.MethodGet, "/api/chains", nil, nil)
	if res.err != nil {
		h.guard.failed(addr, now)
		refuse(http.StatusUnauthorized, "Sign-in refused: "+res.err.Error())
		return
	}
	h.guard.succeeded(addr)
	ss := h.sessions.create(cred)
	setCookie(w, r, signinCookie, "")
	setCookie(w, r, cookieName, ss.id)
	http.Redirect(w, r, Prefix+"decisions", http.StatusSeeOther)
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request, ss *session) {
	h.sessions.drop(ss)
	setCookie(w, r, cookieName, "")
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}
