"""Analytics helpers the dbt Python models import (pure functions, no warehouse access)."""
