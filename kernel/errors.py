class ApplicationError(Exception):
    """A domain rule refused the request. Views and admin show the message as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
