<?php
// CPU time (µs, user + system) of the processes of each kind, summed: nginx, php-fpm, the private redis-server
// (its port in argv[1]), wrk while it runs; and the machine's busy time. Prints one JSON object. Side experiments diff two snapshots around a cell.
$port = $argv[1] ?? '';
$tick = 1e6 / (int) trim((string) shell_exec('getconf CLK_TCK'));
$out = ['nginx' => 0, 'php-fpm' => 0, 'redis' => 0, 'wrk' => 0];
foreach (glob('/proc/[0-9]*') as $p) {
  $stat = @file_get_contents("$p/stat"); $cmd = @file_get_contents("$p/cmdline");
  if ($stat === false || $cmd === false) continue;
  $f = explode(' ', substr($stat, strrpos($stat, ')') + 2));
  $us = ((int) $f[11] + (int) $f[12]) * $tick;
  $cmd = str_replace("\0", ' ', $cmd);
  if (str_starts_with($cmd, 'nginx')) $out['nginx'] += $us;
  elseif (str_starts_with($cmd, 'php-fpm')) $out['php-fpm'] += $us;
  elseif (str_starts_with($cmd, 'redis-server') && $port !== '' && str_contains($cmd, ":$port")) $out['redis'] += $us;
  elseif (str_starts_with($cmd, 'wrk')) $out['wrk'] += $us;
}
// the whole machine's busy time (all cores; wrk's own CPU is in it, as is anything else running)
$cpu = preg_split('/\s+/', trim(strtok((string) file_get_contents('/proc/stat'), "\n")));
$out['machine'] = ((int) $cpu[1] + (int) $cpu[2] + (int) $cpu[3] + (int) $cpu[6] + (int) $cpu[7]) * $tick;
echo json_encode($out), "\n";
