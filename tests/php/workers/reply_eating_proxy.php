<?php
// A TCP proxy in front of Redis that, while <flag file> exists, forwards commands but swallows the replies: the
// commands run, the client never hears back. A number in the flag file lets that many replies through first (each
// read from Redis counts as one: the small replies of a call that makes several round trips arrive one by one).
// Args: redis port, flag file. Prints "port <n>" once listening.
declare(strict_types=1);

[, $redisPort, $flag] = $argv;
$listener = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
if ($listener === false) {
    fwrite(STDERR, "listen: $error\n");
    exit(1);
}
$name = (string) stream_socket_get_name($listener, false);
echo 'port ', substr($name, strrpos($name, ':') + 1), "\n";

$peer = []; // socket id => the other end
$sockets = [];
$fromRedis = [];
while (true) {
    $read = [$listener, ...array_values($sockets)];
    $write = $except = null;
    if (stream_select($read, $write, $except, 1) === false) {
        exit(1);
    }
    foreach ($read as $socket) {
        if ($socket === $listener) {
            $client = stream_socket_accept($listener);
            $upstream = stream_socket_client("tcp://127.0.0.1:$redisPort", $errno, $error, 2);
            if ($client === false || $upstream === false) {
                continue;
            }
            $sockets[(int) $client] = $client;
            $sockets[(int) $upstream] = $upstream;
            $peer[(int) $client] = $upstream;
            $peer[(int) $upstream] = $client;
            $fromRedis[(int) $upstream] = true;
            continue;
        }
        $data = fread($socket, 65536);
        $other = $peer[(int) $socket] ?? null;
        if ($data === '' || $data === false || $other === null) {
            foreach ([$socket, $other] as $s) {
                if ($s !== null) {
                    unset($sockets[(int) $s], $peer[(int) $s], $fromRedis[(int) $s]);
                    @fclose($s);
                }
            }
            continue;
        }
        // PHP caches the stat of an existing file: without this, removing the flag would not end the loss.
        clearstatcache(true, $flag);
        if (isset($fromRedis[(int) $socket]) && is_file($flag)) {
            $pass = (int) trim((string) @file_get_contents($flag));
            if ($pass <= 0) {
                continue; // the reply is lost on the way back
            }
            file_put_contents($flag, (string) ($pass - 1));
        }
        fwrite($other, $data);
    }
}
