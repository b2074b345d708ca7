"""The API's views: thin, each calling the same services the admin and the commands call."""
