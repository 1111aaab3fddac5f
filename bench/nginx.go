package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
)

// startNginx runs nginx as a reverse proxy to upstream with upstream
// keep-alive (without it nginx opens a connection per request and is
// several times slower, which would flatter every other target).
func startNginx(ctx context.Context, dir, upstream string) (*child, string, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, "", errors.New("not installed")
	}
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, "", err
	}
	addr := freeAddr()
	prefix := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(filepath.Join(prefix, "logs"), 0o700); err != nil {
		return nil, "", err
	}
	conf := fmt.Sprintf(`worker_processes 2;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream ehr { server %[2]s; keepalive 128; }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://ehr;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering on;
    }
  }
}
`, prefix, u.Host, addr)
	cf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		return nil, "", err
	}
	c, err := startProcess(ctx, "nginx", addr, bin, "-p", prefix, "-c", cf, "-g", "daemon off;")
	if err != nil {
		return nil, "", err
	}
	return c, addr, nil
}
