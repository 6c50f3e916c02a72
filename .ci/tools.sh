# Source this file: makes sure the Debian tools the tests run for real are installed:
# php-cli with php-symfony-http-foundation (a real Symfony API behind the gateway), nginx-light (nginx
# as the API's server, routing by its locations), apache2-bin and python3-flask, python3-django,
# python3-fastapi, python3-uvicorn (the frameworks of the authorization parity suite), redis-server (the shared rate-limit store; harness/redisServer.ts starts and stops its own
# instances on free ports, with TLS from certificates openssl makes), openssl, and jq (the
# migration guide's inventory filters are run as printed). Also moto_server, the local AWS KMS the
# KMS-signing tests run against (harness/kmsServer.ts): the Python moto package the build machines
# carry (the registries reached have no package of it to install).
_tools=()
command -v redis-server >/dev/null 2>&1 || _tools+=(redis-server)
command -v openssl >/dev/null 2>&1 || _tools+=(openssl)
command -v jq >/dev/null 2>&1 || _tools+=(jq)
# A real PHP API behind the gateway (test/support/symfonyUpstream.ts): PHP's built-in server and
# Symfony HttpFoundation, whose parameter-name mangling the method-override checks must match.
command -v php >/dev/null 2>&1 || _tools+=(php-cli)
[ -f /usr/share/php/Symfony/Component/HttpFoundation/autoload.php ] || _tools+=(php-symfony-http-foundation)
# nginx behind the gateway, routing by its own string-prefix locations (test/support/nginxUpstream.ts).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || _tools+=(nginx-light)
# The authorization parity suite (test/gateway/parity.test.ts): Apache httpd, and Flask, Django and
# FastAPI on uvicorn for Debian's python3 (PyPI is unreachable from the build machines).
[ -x /usr/sbin/apache2 ] || _tools+=(apache2-bin)
for _py in flask:python3-flask django:python3-django fastapi:python3-fastapi uvicorn:python3-uvicorn; do
  /usr/bin/python3 -c "import ${_py%%:*}" >/dev/null 2>&1 || _tools+=("${_py#*:}")
done
if [ ${#_tools[@]} -gt 0 ]; then
  echo "tools: installing ${_tools[*]} from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${_tools[@]}" >/dev/null
fi
redis-server --version >&2
command -v moto_server >/dev/null 2>&1 || { echo "tools: moto_server (Python moto) is missing; the KMS-signing tests need it" >&2; exit 1; }
