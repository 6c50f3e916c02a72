// An nginx.conf that runs in the foreground from a directory of its own (pid, logs, temp files),
// for nginx started by the tests and the benchmark, never the system's.

/** The whole configuration: `http` holds what goes inside the http block (upstreams, servers). */
export function nginxConf(dir: string, http: string, workerConnections = 4096): string {
    return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${http}
}
`;
}
