package charts

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

// stage is one FROM ... [AS name] and what follows it.
type stage struct {
	image, name string
	ins         []instruction
}

func parseDockerfile(t *testing.T, path string) (args map[string]string, stages []*stage) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	args = map[string]string{}
	sc := bufio.NewScanner(f)
	var cur strings.Builder
	start, n := 0, 0
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(rest), start}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := &stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case len(stages) == 0:
			t.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
		default:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			start = n
		} else if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return args, stages
}

func (s *stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// buildCommand returns the RUN instruction's go build command line of the
// build stage, split into environment assignments and arguments.
func buildCommand(t *testing.T, s *stage) (env map[string]string, argv []string) {
	t.Helper()
	for _, in := range s.find("RUN") {
		words := shellWords(t, in.args)
		i := slices.Index(words, "go")
		if i < 0 || i+1 >= len(words) || words[i+1] != "build" {
			continue
		}
		env = map[string]string{}
		for _, w := range words[:i] {
			if k, v, ok := strings.Cut(w, "="); ok && !strings.HasPrefix(w, "--") {
				env[k] = v
			}
		}
		return env, words[i:]
	}
	t.Fatal("no RUN ... go build in the build stage")
	return nil, nil
}

// shellWords splits a shell command line (quotes, no expansion).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	_, stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if !strings.HasPrefix(build.image, "golang:") || build.name == "" {
		t.Errorf("build stage FROM %s AS %q, want a named golang stage", build.image, build.name)
	}
	if !strings.HasPrefix(final.image, "gcr.io/distroless/static") && final.image != "scratch" {
		t.Errorf("runtime stage FROM %s, want distroless/static or scratch", final.image)
	}

	t.Run("build", func(t *testing.T) {
		env, argv := buildCommand(t, build)
		if env["CGO_ENABLED"] != "0" {
			t.Errorf("CGO_ENABLED=%q, want 0", env["CGO_ENABLED"])
		}
		cmd := strings.Join(argv, " ")
		for _, want := range []string{"-trimpath", "-s -w", "-X main.version=", "./cmd/ehigate"} {
			if !strings.Contains(cmd, want) {
				t.Errorf("build command %q lacks %q", cmd, want)
			}
		}
	})

	t.Run("runtime", func(t *testing.T) {
		users := final.find("USER")
		if len(users) == 0 {
			t.Fatal("no USER in the runtime stage")
		}
		user := strings.Fields(users[len(users)-1].args)[0]
		uid, _, _ := strings.Cut(user, ":")
		if uid != "65532" {
			t.Errorf("USER %s, want the non-root uid 65532", user)
		}
		if runs := final.find("RUN"); len(runs) > 0 {
			t.Errorf("line %d: RUN in the runtime stage (it has no shell)", runs[0].line)
		}
		var ports []string
		for _, in := range final.find("EXPOSE") {
			ports = append(ports, strings.Fields(in.args)...)
		}
		for _, p := range []string{"8080", "9090"} {
			if !slices.Contains(ports, p) {
				t.Errorf("EXPOSE lacks %s (got %v)", p, ports)
			}
		}
		if e := final.find("ENTRYPOINT"); len(e) != 1 || e[0].args != `["/ehigate"]` {
			t.Errorf("ENTRYPOINT %v, want [\"/ehigate\"]", e)
		}
		if c := final.find("CMD"); len(c) != 1 || strings.ReplaceAll(c[0].args, " ", "") != `["serve","--config","/etc/ehigate/config.yaml"]` {
			t.Errorf("CMD %v", c)
		}
		copied := false
		for _, in := range final.find("COPY") {
			if strings.Contains(in.args, "--from="+build.name) && strings.HasSuffix(in.args, " /ehigate") {
				copied = true
			}
		}
		if !copied {
			t.Errorf("the runtime stage does not COPY /ehigate from the %s stage", build.name)
		}
	})

	t.Run("no remote ADD", func(t *testing.T) {
		for _, st := range stages {
			for _, in := range st.find("ADD") {
				if strings.Contains(in.args, "://") || strings.Contains(in.args, "git@") {
					t.Errorf("line %d: ADD of a remote source: %s", in.line, in.args)
				}
			}
		}
	})

	t.Run("dockerignore", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for _, want := range []string{".git", "**/*.db", "**/*.pem"} {
			if !slices.Contains(lines, want) {
				t.Errorf(".dockerignore lacks %s", want)
			}
		}
		for _, bad := range []string{"go.mod", "go.sum", "cmd", "configs"} {
			if slices.Contains(lines, bad) {
				t.Errorf(".dockerignore excludes %s, which the build needs", bad)
			}
		}
	})
}

// TestStaticBinary runs the Dockerfile's own go build command (with the
// host's GOOS/GOARCH) and checks that the binary is static: no program
// interpreter and no dynamic section, so it runs on distroless/static.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("ELF check on linux only")
	}
	root := repoRoot(t)
	args, stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	env, argv := buildCommand(t, stages[0])
	vars := map[string]string{"VERSION": "v0.0.0-test", "TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH}
	for k, v := range args {
		if _, ok := vars[k]; !ok {
			vars[k] = v
		}
	}
	expand := func(s string) string {
		return os.Expand(s, func(k string) string { return vars[k] })
	}
	out := filepath.Join(t.TempDir(), "ehigate")
	var cmdArgs []string
	for i := 2; i < len(argv); i++ { // after "go build"
		if argv[i] == "-o" {
			i++ // our own output path instead
			continue
		}
		cmdArgs = append(cmdArgs, expand(argv[i]))
	}
	cmd := exec.Command("go", append([]string{"build", "-o", out}, cmdArgs...)...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+expand(v))
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %v program header: it is not static", p.Type)
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		t.Error("binary has a .dynamic section: it is not static")
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary imports %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("binary keeps its symbol table: -ldflags -s is not applied")
	}
	got, err := exec.Command(out, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != "ehigate v0.0.0-test" {
		t.Errorf("version = %q: -X main.version is not applied", got)
	}
}
