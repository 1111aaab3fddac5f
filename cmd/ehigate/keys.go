package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision/journal"
)

// loadSigner returns the checkpoint signer of cfg: the key in
// journal.signing_key, or, for SQLite, the key kept next to the database,
// generated at first start when create is set.
func loadSigner(cfg *configs.Config, create bool) (*journal.Signer, error) {
	path, generate := cfg.SigningKeyPath()
	var k ed25519.PrivateKey
	var err error
	switch {
	case path == "" && create:
		// An in-memory database: an ephemeral key, like the records.
		_, k, err = ed25519.GenerateKey(nil)
	case path == "":
		return nil, errors.New("no signing key: set journal.signing_key")
	case generate && create:
		k, err = journal.LoadOrCreateKey(path)
	default:
		k, err = journal.LoadPrivateKey(path)
		if errors.Is(err, os.ErrNotExist) && generate {
			err = fmt.Errorf("no signing key at %s yet (it is made when the gateway first starts): %w", path, err)
		}
	}
	if err != nil {
		return nil, err
	}
	return journal.NewSigner(k), nil
}

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "public" && args[0] != "generate") {
		fmt.Fprintln(stderr, "usage: ehigate keys public --config FILE | ehigate keys generate --out FILE")
		return errUsage
	}
	fs := newFlags("keys "+args[0], stderr)
	switch args[0] {
	case "public":
		file := fs.String("config", "", "configuration `file` (YAML)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *file == "" {
			fmt.Fprintln(stderr, "ehigate keys public: --config is required")
			return errUsage
		}
		cfg, err := configs.Load(*file)
		if err != nil {
			return err
		}
		s, err := loadSigner(cfg, false)
		if err != nil {
			return err
		}
		return writePublic(stdout, s.Public())
	default:
		out := fs.String("out", "", "`file` to write the new private key to (mode 0600; never overwritten)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *out == "" {
			fmt.Fprintln(stderr, "ehigate keys generate: --out is required")
			return errUsage
		}
		k, err := journal.WriteNewKey(*out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s (key id %s); its public key:\n", *out, journal.KeyID(k.Public().(ed25519.PublicKey)))
		return writePublic(stdout, k.Public().(ed25519.PublicKey))
	}
}

func writePublic(w io.Writer, pub ed25519.PublicKey) error {
	b, err := journal.EncodePublicKey(pub)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
