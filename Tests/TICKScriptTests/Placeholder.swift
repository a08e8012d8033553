// Tests for TICKScript live here.
