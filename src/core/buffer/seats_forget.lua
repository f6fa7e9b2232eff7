-- Forgets the count: bookings are refused as not known until the next seed. KEYS: seats.
return redis.call('DEL', KEYS[1])
