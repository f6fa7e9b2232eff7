<?php
// Pushes, forks a child that pushes and exits normally (running PHP's shutdown), and pushes again in the parent.
// Prints the parent's ids, then the child's ids, as JSON.
declare(strict_types=1);
require __DIR__ . '/common.php';

$parent = [reg_buffer_push(1, ['who' => 'parent', 'i' => 0])];
$childFile = tempnam(sys_get_temp_dir(), 'reg_buffer_fork_');
$pid = pcntl_fork();
if ($pid === 0) {
    $ids = [];
    for ($i = 0; $i < 50; $i++) {
        $ids[] = reg_buffer_push(1, ['who' => 'child', 'i' => $i]);
    }
    file_put_contents($childFile, json_encode($ids));
    exit(0);
}
pcntl_waitpid($pid, $status);
// The child is gone, shutdown and all: the parent's pooled connection must still answer correctly.
for ($i = 1; $i <= 50; $i++) {
    $parent[] = reg_buffer_push(1, ['who' => 'parent', 'i' => $i]);
}
$child = json_decode((string) file_get_contents($childFile), true);
unlink($childFile);
echo json_encode(['parent' => $parent, 'child' => $child, 'child_status' => pcntl_wexitstatus($status)]);
