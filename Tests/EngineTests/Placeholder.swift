// Tests for Engine live here.
