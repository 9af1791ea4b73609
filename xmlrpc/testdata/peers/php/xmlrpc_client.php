<?php
/*
 * An XML-RPC client on PHP's xmlrpc extension (xmlrpc_encode_request and
 * xmlrpc_decode), posting with file_get_contents and an http stream context,
 * as PHP's manual does.
 *
 * usage: php xmlrpc_client.php URL [default|utf8|both]   (default both)
 *
 * Runs every case of ../cases.json and prints one JSON object per line:
 *   {"case", "ok", "result", "fault_code", "fault_string", "error"}
 * ok is true when the case got what cases.json wants; error is set when the
 * call failed other than by a fault (HTTP status, undecodable reply).
 *
 *   default  the extension's defaults: xmlrpc_encode_request($m, $p) declares
 *            encoding="iso-8859-1" and escapes every non-ASCII byte as &#NNN;;
 *            xmlrpc_decode($xml) converts the reply to ISO-8859-1.
 *            Case names as in cases.json.
 *   utf8     output options encoding=utf-8, escaping=markup (raw UTF-8) and
 *            xmlrpc_decode($xml, "utf-8"). Case names get the prefix "utf8:".
 *
 * Results: base64 as {"base64": "..."}, dateTime as {"datetime": the text as
 * received}, a string that is not valid UTF-8 (ISO-8859-1 from a default-mode
 * decode) as {"non_utf8_hex": "..."}. Exits 0 whatever the cases did; 2 when
 * it cannot run at all.
 *
 * When a reply is not well-formed XML, the extension prints expat's report
 * ("expat reports error code 4 ...") on stderr and xmlrpc_decode returns NULL.
 */

const TIMEOUT = 10; // seconds per call

if ($argc < 2) {
    fwrite(STDERR, "usage: php xmlrpc_client.php URL [default|utf8|both]\n");
    exit(2);
}
$url = $argv[1];
$which = $argv[2] ?? 'both';
$modes = $which === 'both' ? ['default', 'utf8'] : [$which];
foreach ($modes as $m) {
    if (!in_array($m, ['default', 'utf8'], true)) {
        fwrite(STDERR, "unknown mode $m\n");
        exit(2);
    }
}
$doc = json_decode(file_get_contents(__DIR__ . '/../cases.json'), false, 512, JSON_THROW_ON_ERROR);

foreach ($modes as $mode) {
    foreach ($doc->cases as $c) {
        $out = run_case($url, $mode, $c);
        $out['case'] = ($mode === 'utf8' ? 'utf8:' : '') . $c->case;
        $line = ['case' => $out['case'], 'ok' => $out['ok'], 'result' => $out['result'] ?? null,
            'fault_code' => $out['fault_code'] ?? null, 'fault_string' => $out['fault_string'] ?? null,
            'error' => $out['error'] ?? null];
        // Results that are not UTF-8 are shown as non_utf8_hex already; error texts quote raw bodies.
        $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_INVALID_UTF8_SUBSTITUTE;
        $json = json_encode($line, $flags);
        if ($json === false) { // still one line per case
            $json = json_encode(['case' => $line['case'], 'ok' => false, 'result' => null, 'fault_code' => null,
                'fault_string' => null, 'error' => 'json_encode: ' . json_last_error_msg()], $flags | JSON_INVALID_UTF8_SUBSTITUTE);
        }
        echo $json, "\n";
    }
}
exit(0);

function run_case(string $url, string $mode, object $c): array
{
    $params = array_map('to_php', $c->params);
    if ($mode === 'utf8') {
        $request = xmlrpc_encode_request($c->method, $params, ['encoding' => 'utf-8', 'escaping' => 'markup']);
    } else {
        $request = xmlrpc_encode_request($c->method, $params); // defaults
    }
    $ctx = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => "Content-Type: text/xml\r\n",
        'content' => $request,
        'ignore_errors' => true, // read the body of 4xx/5xx answers too
        'timeout' => TIMEOUT,
    ]]);
    $http_response_header = null;
    $body = @file_get_contents($url, false, $ctx);
    if ($body === false) {
        $e = error_get_last();
        return ['ok' => false, 'error' => 'HTTP request failed: ' . ($e['message'] ?? '?')];
    }
    $status = $http_response_header[0] ?? '';
    if (!preg_match('#^HTTP/\S+ 200\b#', $status)) {
        return ['ok' => false, 'error' => trim("$status: " . substr($body, 0, 200))];
    }
    $v = $mode === 'utf8' ? xmlrpc_decode($body, 'utf-8') : xmlrpc_decode($body);
    if (is_array($v) && xmlrpc_is_fault($v)) {
        $code = $v['faultCode'];
        return ['ok' => isset($c->want_fault) && $code === $c->want_fault, 'fault_code' => $code,
            'fault_string' => to_json($v['faultString'])];
    }
    $r = ['result' => to_json($v)];
    if ($v === null) {
        $r['error'] = 'xmlrpc_decode returned NULL for: ' . substr($body, 0, 300);
    }
    if (isset($c->want_fault)) {
        $r['ok'] = false;
    } elseif (isset($c->want_contains)) {
        $r['ok'] = is_array($r['result']) && !array_diff($c->want_contains, $r['result']);
    } else {
        $r['ok'] = same($c->want, $r['result'], !empty($c->subset));
    }
    return $r;
}

// to_php turns a cases.json value into what the extension encodes.
function to_php($v)
{
    if (is_object($v)) {
        $props = get_object_vars($v);
        if (count($props) === 1 && isset($props['base64'])) {
            $b = base64_decode($props['base64']);
            xmlrpc_set_type($b, 'base64');
            return $b;
        }
        if (count($props) === 1 && isset($props['datetime'])) {
            $d = $props['datetime'];
            xmlrpc_set_type($d, 'datetime');
            return $d;
        }
        return array_map('to_php', $props);
    }
    if (is_array($v)) {
        return array_map('to_php', $v);
    }
    return $v;
}

// to_json turns a decoded value into JSON terms: structs become objects,
// arrays lists (an empty PHP array, struct or array, is a list).
function to_json($v)
{
    if (is_object($v) && isset($v->xmlrpc_type)) {
        if ($v->xmlrpc_type === 'base64') {
            return (object)['base64' => base64_encode($v->scalar)];
        }
        if ($v->xmlrpc_type === 'datetime') {
            return (object)['datetime' => $v->scalar];
        }
    }
    if (is_array($v)) {
        if (array_is_list($v)) {
            return array_map('to_json', $v);
        }
        return (object)array_map('to_json', $v);
    }
    if (is_string($v) && !preg_match('//u', $v)) {
        return (object)['non_utf8_hex' => bin2hex($v)];
    }
    return $v;
}

// same compares JSON terms: numbers by value, objects by key in any order
// (only want's keys when subset), everything else strictly.
function same($want, $got, bool $subset): bool
{
    if ((is_int($want) || is_float($want)) && (is_int($got) || is_float($got))) {
        return $want == $got;
    }
    if (is_object($want) && is_object($got)) {
        $w = get_object_vars($want);
        $g = get_object_vars($got);
        if (!$subset && count($w) !== count($g)) {
            return false;
        }
        foreach ($w as $k => $wv) {
            if (!array_key_exists($k, $g) || !same($wv, $g[$k], $subset)) {
                return false;
            }
        }
        return true;
    }
    if (is_array($want) && is_array($got)) {
        if (count($want) !== count($got)) {
            return false;
        }
        foreach ($want as $i => $wv) {
            if (!same($wv, $got[$i], $subset)) {
                return false;
            }
        }
        return true;
    }
    return $want === $got;
}
