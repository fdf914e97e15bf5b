"""HTTP interfaces other systems call (the Open311 API); thin layers over the services."""
