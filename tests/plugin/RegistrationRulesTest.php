<?php
// Reg_Buffer_Registration_Rules (what a registration may be, for every entry point) and Reg_Buffer_Registration
// (its WP_Error 422s, the JSON a direct write stores, ids, times).
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

final class RegistrationRulesTest extends SiteTestCase
{
    public function test_a_unique_key_may_be_null_or_a_nonempty_utf8_string_of_at_most_191_bytes_without_a_trailing_space(): void
    {
        $rules = \Reg_Buffer_Registration_Rules::class;
        self::assertNull($rules::unique_key_problem(null));
        self::assertNull($rules::unique_key_problem('ada@example.com'));
        self::assertNull($rules::unique_key_problem(str_repeat('k', 191)));
        self::assertNull($rules::unique_key_problem(' leading is kept'));
        self::assertNull($rules::unique_key_problem(str_repeat('é', 95)), '190 bytes of UTF-8');

        self::assertSame('key_type', $rules::unique_key_problem(''));
        self::assertSame('key_type', $rules::unique_key_problem(str_repeat('k', 192)));
        self::assertSame('key_type', $rules::unique_key_problem(str_repeat('é', 96)), '192 bytes: the limit is bytes, not characters');
        self::assertSame('key_type', $rules::unique_key_problem(42));
        self::assertSame('key_utf8', $rules::unique_key_problem('ada@example.com '));
        self::assertSame('key_utf8', $rules::unique_key_problem("ada\xffexample"));
    }

    public function test_a_registration_is_an_array_of_scalars_and_arrays_within_the_limits(): void
    {
        $problem = [\Reg_Buffer_Registration_Rules::class, 'registration_problem'];
        self::assertNull($problem(['name' => 'Ada', 'seats' => 2, 'price' => 9.5, 'vip' => true, 'note' => null, 'tags' => ['a', ['b']]]));
        self::assertNull($problem([]));
        self::assertSame('not_array', $problem('Ada'));
        self::assertSame('not_array', $problem(null));
        self::assertSame('reserved', $problem(['_reg_buffer_anything' => 1]));
        self::assertNull($problem(['nested' => ['_reg_buffer_x' => 1]]), 'only top-level names are reserved');
        self::assertSame('value_type', $problem(['at' => new \stdClass()]));
        self::assertSame('value_finite', $problem(['n' => NAN]));
        self::assertSame('value_finite', $problem(['n' => ['m' => -INF]]));
        self::assertSame('value_utf8', $problem(['name' => "Ad\xe9"]));
        self::assertNull($problem(['name' => "Ad\xe9"], false), 'a JSON decoder already refused non-UTF-8');
        self::assertSame('name', $problem([str_repeat('n', 129) => 1]));
        self::assertNull($problem([str_repeat('n', 128) => 1]));
        self::assertSame('name', $problem(["n\xff" => 1]));
    }

    public function test_depth_and_field_count_are_bounded_nested_fields_counted(): void
    {
        $problem = [\Reg_Buffer_Registration_Rules::class, 'registration_problem'];
        $nest = static function (int $levels): array {
            $value = [];
            for ($i = 1; $i < $levels; $i++) {
                $value = ['d' => $value];
            }
            return $value;
        };
        self::assertNull($problem($nest(64)), 'the registration itself is level 1');
        self::assertSame('too_deep', $problem($nest(65)));
        self::assertNull($problem(array_fill(0, 1000, 1)));
        self::assertSame('too_many', $problem(array_fill(0, 1001, 1)));
        self::assertSame('too_many', $problem(['a' => array_fill(0, 1000, 1)]), 'the nested fields and their parent: 1001');
    }

    public function test_the_plugin_translates_every_problem_code_and_answers_422(): void
    {
        foreach (array_keys(\Reg_Buffer_Registration_Rules::MESSAGES) as $code) {
            self::assertSame(\Reg_Buffer_Registration_Rules::message($code), \Reg_Buffer_Registration::message($code), "$code: the same sentence, translatable");
        }
        $error = \Reg_Buffer_Registration::check_fields(['_reg_buffer_intake' => 1]);
        self::assertInstanceOf(\WP_Error::class, $error);
        self::assertSame(['reg_buffer_invalid', 422], [$error->get_error_code(), $error->get_error_data()['status']]);
        self::assertSame('Field names starting with _reg_buffer are reserved.', $error->get_error_message());
        self::assertTrue(\Reg_Buffer_Registration::check_fields(['name' => 'Ada']));

        self::assertTrue(\Reg_Buffer_Registration::check_identity(7, null));
        self::assertSame('The event id must be a positive integer.', \Reg_Buffer_Registration::check_identity('7', null)->get_error_message(), 'the registrar casts digit strings, this does not');
        self::assertInstanceOf(\WP_Error::class, \Reg_Buffer_Registration::check_identity(7, ''));
    }

    public function test_the_stored_json_has_the_extensions_text_shape(): void
    {
        self::assertSame('{"url":"https://x.test/a","name":"Zoë","line":"a' . "\u{2028}" . 'b","price":2.0,"n":1}', \Reg_Buffer_Registration::to_json(['url' => 'https://x.test/a', 'name' => 'Zoë', 'line' => "a\u{2028}b", 'price' => 2.0, 'n' => 1]));
        self::assertInstanceOf(\WP_Error::class, \Reg_Buffer_Registration::to_json(['bad' => "\xff"]));
    }

    public function test_encode_refuses_a_registration_larger_than_the_payload_limit(): void
    {
        $this->withSettings(['max_payload_bytes' => 20]);
        self::assertSame('{"name":"Ada"}', \Reg_Buffer_Registration::encode(['name' => 'Ada']));
        $refused = \Reg_Buffer_Registration::encode(['name' => 'Ada Lovelace, Countess']);
        self::assertInstanceOf(\WP_Error::class, $refused);
        self::assertSame(422, $refused->get_error_data()['status']);
    }

    public function test_new_ids_are_ulids_ordered_by_time_and_datetimes_have_milliseconds_in_utc(): void
    {
        $first = \Reg_Buffer_Registration::new_id();
        usleep(2000);
        $second = \Reg_Buffer_Registration::new_id();
        self::assertMatchesRegularExpression('/^[0-9A-HJKMNP-TV-Z]{26}$/D', $first);
        self::assertLessThan(0, strcmp(substr($first, 0, 10), substr($second, 0, 10)), 'the time part orders them');
        self::assertNotSame($first, $second);

        self::assertSame('2023-11-14 22:13:20.250', \Reg_Buffer_Registration::to_datetime(1700000000.25));
        self::assertSame('2023-11-14 22:13:21.000', \Reg_Buffer_Registration::to_datetime(1700000000.9996), 'rounding carries into the second');
    }
}
