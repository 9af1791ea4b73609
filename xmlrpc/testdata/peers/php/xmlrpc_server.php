<?php
/*
 * An XML-RPC server on PHP's xmlrpc extension (xmlrpc_server_create and
 * xmlrpc_server_call_method) behind PHP's built-in web server (php -S).
 *
 * usage: php xmlrpc_server.php PORT [default|utf8]
 *
 *   default  the extension's default output options: declares
 *            encoding="iso-8859-1", escapes every non-ASCII byte as &#NNN;
 *   utf8     output options encoding=utf-8, escaping=markup: raw UTF-8
 *
 * Serves fun_add(a, b), fib(n) (n < 0: fault -32602), echo(v), fault(code,
 * msg), and the extension's own system.listMethods, system.multiCall (its
 * spelling: "system.multicall" is an unknown method), system.methodHelp,
 * system.methodSignature, system.describeMethods, system.getCapabilities.
 * A fault is the extension's way: a method returns an array with faultCode
 * and faultString.
 *
 * Listens on 127.0.0.1:PORT (PORT 0 is not supported by php -S) and prints
 * "ready PORT" on stdout once it accepts connections; runs until killed. The
 * process becomes "php -S" itself (same pid), so killing the pid stops the
 * server. php -S logs each request on stderr.
 */

if (PHP_SAPI === 'cli') {
    launch($argv);
    exit(1);
}
serve(getenv('RPCWIRE_PHP_MODE') ?: 'default');

// launch replaces this process with "php -S 127.0.0.1:PORT thisfile"; a
// forked child prints "ready PORT" once the port accepts connections.
function launch(array $argv): void
{
    $port = isset($argv[1]) ? (int)$argv[1] : 8080;
    $mode = $argv[2] ?? 'default';
    if ($port <= 0 || $port > 65535 || !in_array($mode, ['default', 'utf8'], true)) {
        fwrite(STDERR, "usage: php xmlrpc_server.php PORT [default|utf8]\n");
        exit(2);
    }
    $pid = pcntl_fork();
    if ($pid < 0) {
        fwrite(STDERR, "fork failed\n");
        exit(1);
    }
    if ($pid === 0) { // child: wait (at most 10 s) for the server, then say so
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $c = @fsockopen('127.0.0.1', $port, $errno, $errstr, 0.2);
            if ($c) {
                fclose($c);
                fwrite(STDOUT, "ready $port\n");
                fflush(STDOUT);
                exit(0);
            }
            usleep(50000);
        }
        fwrite(STDERR, "server did not listen on 127.0.0.1:$port within 10 s\n");
        exit(1);
    }
    $env = getenv();
    $env['RPCWIRE_PHP_MODE'] = $mode;
    pcntl_exec(PHP_BINARY, ['-S', "127.0.0.1:$port", __FILE__], $env);
    fwrite(STDERR, "exec php -S failed\n");
    posix_kill($pid, SIGTERM);
}

function fib(int $n): int
{
    [$a, $b] = [0, 1];
    for ($i = 0; $i < $n; $i++) {
        [$a, $b] = [$b, $a + $b];
    }
    return $a;
}

function serve(string $mode): void
{
    if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
        http_response_code(405);
        header('Allow: POST');
        echo "XML-RPC server accepts POST requests only.\n";
        return;
    }
    $s = xmlrpc_server_create();
    xmlrpc_server_register_method($s, 'fun_add', function ($method, $params) {
        return $params[0] + $params[1];
    });
    xmlrpc_server_register_method($s, 'fib', function ($method, $params) {
        $n = $params[0];
        if ($n < 0) {
            return ['faultCode' => -32602, 'faultString' => "fib($n): n must not be negative"];
        }
        return fib($n);
    });
    xmlrpc_server_register_method($s, 'echo', function ($method, $params) {
        return $params[0];
    });
    xmlrpc_server_register_method($s, 'fault', function ($method, $params) {
        return ['faultCode' => (int)$params[0], 'faultString' => (string)$params[1]];
    });
    $request = file_get_contents('php://input');
    if ($mode === 'utf8') {
        $response = xmlrpc_server_call_method($s, $request, null, ['encoding' => 'utf-8', 'escaping' => 'markup']);
    } else {
        $response = xmlrpc_server_call_method($s, $request, null); // the extension's defaults
    }
    xmlrpc_server_destroy($s);
    header('Content-Type: text/xml');
    echo $response;
}
