// verification
