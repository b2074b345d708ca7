"""What the API answers (read-only serializers over the rows) and what it accepts (input serializers)."""
