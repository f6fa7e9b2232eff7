<?php
// Describes functions and classes by reflection as plain arrays, so a stub and the loaded extension compare equal.
// Included both by StubTest and by a `php -n` subprocess that reflects the stub without the extension.
declare(strict_types=1);

function reg_buffer_test_describe_function(ReflectionFunctionAbstract $f): array
{
    $params = [];
    foreach ($f->getParameters() as $p) {
        $params[] = [
            'name' => $p->getName(),
            'type' => (string) $p->getType(),
            'nullable' => $p->allowsNull(),
            'optional' => $p->isOptional(),
            'default' => $p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : null,
            'by_ref' => $p->isPassedByReference(),
            'variadic' => $p->isVariadic(),
        ];
    }
    return [
        'params' => $params,
        'required' => $f->getNumberOfRequiredParameters(),
        'returns' => (string) $f->getReturnType(),
        'returns_ref' => $f->returnsReference(),
    ];
}

function reg_buffer_test_describe_class(ReflectionClass $c): array
{
    $methods = [];
    foreach ($c->getMethods() as $m) {
        if ($m->getDeclaringClass()->getName() !== $c->getName()) {
            continue;
        }
        $methods[$m->getName()] = reg_buffer_test_describe_function($m) + [
            'static' => $m->isStatic(),
            'visibility' => $m->isPublic() ? 'public' : ($m->isProtected() ? 'protected' : 'private'),
            'final' => $m->isFinal(),
            'abstract' => $m->isAbstract(),
        ];
    }
    ksort($methods);
    $interfaces = $c->getInterfaceNames();
    sort($interfaces);
    $constants = $c->getConstants();
    ksort($constants);
    $properties = [];
    foreach ($c->getProperties(ReflectionProperty::IS_PUBLIC) as $p) {
        if ($p->getDeclaringClass()->getName() === $c->getName()) {
            $properties[] = $p->getName() . ':' . $p->getType();
        }
    }
    sort($properties);
    return [
        'parent' => $c->getParentClass() ? $c->getParentClass()->getName() : null,
        'interfaces' => $interfaces,
        'final' => $c->isFinal(),
        'abstract' => $c->isAbstract(),
        'interface' => $c->isInterface(),
        'constants' => array_map(fn ($v) => var_export($v, true), $constants),
        'public_properties' => $properties,
        'methods' => $methods,
    ];
}

/** @param list<ReflectionFunction> $functions @param list<ReflectionClass> $classes */
function reg_buffer_test_describe(array $functions, array $classes): array
{
    $out = ['functions' => [], 'classes' => []];
    foreach ($functions as $f) {
        $out['functions'][$f->getName()] = reg_buffer_test_describe_function($f);
    }
    foreach ($classes as $c) {
        $out['classes'][$c->getName()] = reg_buffer_test_describe_class($c);
    }
    ksort($out['functions']);
    ksort($out['classes']);
    return $out;
}

/** What a stub file declares, reflected in this (extension-less) process, plus which declarations lack a docblock. */
function reg_buffer_test_describe_stub(string $stub): array
{
    $functionsBefore = get_defined_functions()['user'];
    $classesBefore = get_declared_classes();
    require $stub;
    $functions = array_map(fn ($n) => new ReflectionFunction($n), array_diff(get_defined_functions()['user'], $functionsBefore));
    $classes = array_map(fn ($n) => new ReflectionClass($n), array_diff(get_declared_classes(), $classesBefore));
    $undocumented = [];
    foreach ([...$functions, ...$classes] as $r) {
        if (!$r->getDocComment()) {
            $undocumented[] = $r->getName();
        }
    }
    sort($undocumented);
    return reg_buffer_test_describe(array_values($functions), array_values($classes)) + ['undocumented' => $undocumented];
}
