package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir"
)

// linkTTL is how long a learned Bulk Data URL stays usable.
const linkTTL = 7 * 24 * time.Hour

// maxManifest bounds a Bulk Data manifest read to learn its file URLs.
const maxManifest = 16 << 20

// learnLinks remembers the URLs of the Bulk Data async flow so that the
// polls and downloads that follow are recognised: the status URL of a
// kick-off (202 + Content-Location) and the file URLs of a manifest.
func (x *exchange) learnLinks(resp *http.Response) error {
	if x.h.opts.Links == nil || x.req == nil {
		return nil
	}
	switch {
	case resp.StatusCode == http.StatusAccepted && (x.req.Async || x.req.Operation == "export"):
		if loc := resp.Header.Get("Content-Location"); loc != "" {
			x.putLink(loc, fhir.BulkStatus)
		}
	case resp.StatusCode == http.StatusOK && x.req.Interaction == fhir.BulkStatus &&
		kindOf(resp.Header.Get("Content-Type")) >= bodyJSON && resp.Request.Method == http.MethodGet:
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%w: manifest: %w", ErrUpstreamInvalid, err)
		}
		if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
			// Rare for a manifest; the URLs cannot be read without decoding.
			resp.Body = io.NopCloser(bytes.NewReader(raw))
			return nil
		}
		var m struct {
			Output  []struct{ URL string } `json:"output"`
			Error   []struct{ URL string } `json:"error"`
			Deleted []struct{ URL string } `json:"deleted"`
		}
		if len(raw) <= maxManifest && json.Unmarshal(raw, &m) == nil {
			for _, list := range [][]struct{ URL string }{m.Output, m.Error, m.Deleted} {
				for _, o := range list {
					x.putLink(o.URL, fhir.BulkFile)
				}
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
	}
	return nil
}

// putLink stores the public path of an upstream URL under the upstream
// base (others are not proxied, so there is nothing to learn).
func (x *exchange) putLink(upstreamURL string, kind fhir.Interaction) {
	u, err := url.Parse(rewriteString(upstreamURL, x.h.toPublic))
	if err != nil {
		return
	}
	rel, ok := x.h.relPath(u.EscapedPath())
	if !ok || !strings.EqualFold(u.Host, x.h.opts.PublicBase.Host) {
		return
	}
	l := store.Link{Path: rel, Kind: kind.String(), RecordID: x.id, Owner: OwnerKey(&x.who), Expires: x.h.clock().Add(linkTTL)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := x.h.opts.Links.PutLink(ctx, l); err != nil {
		x.h.log.ErrorContext(x.r.Context(), "bulk data link not stored", "decision", x.id, "err", err)
	}
}

// OwnerKey identifies a requester for learned links without keeping its
// identity: a hash of issuer, subject and client ("" when anonymous).
func OwnerKey(who *decision.Requester) string {
	if who.Anonymous() {
		return ""
	}
	sum := sha256.Sum256([]byte(who.Issuer + "\x00" + who.Subject + "\x00" + who.ClientID))
	return hex.EncodeToString(sum[:16])
}
